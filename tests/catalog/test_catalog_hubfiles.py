"""Catalog file entries read through the hub (hub/catalog/hubfiles.py), never from a blob's
location in the store: whoever opens an entry is asked the access policy, at every read."""

from __future__ import annotations

from pathlib import Path

import fsspec
import intake
import pytest

from hub import Hub
from hub.catalog import dataset_catalog
from hub.exceptions import NotFoundError


@pytest.fixture()
def private(tmp_path: Path) -> tuple[Hub, str, str]:
    """Alice's hub, a dataset only she may see (one CSV file), and the file's sha256."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "secret.csv").write_text("a,b\n1,2\n3,4\n")
    alice = Hub(tmp_path / "hub", user="alice", progress=False)
    sub = alice.submit(src, "Secret", ["Doe, Alice"], visible_to=["user:alice"])
    assert sub.ok, sub.report()
    sha = alice.dataset(sub.source_id).files()[0]["sha256"]
    return alice, str(sub.source_id), sha


def test_entries_name_the_hub_file_not_the_blob(private: tuple[Hub, str, str], tmp_path: Path) -> None:
    alice, source_id, sha = private
    cat = dataset_catalog(alice, source_id)
    data = cat["secret.csv"].kwargs["args"][0]
    assert data.url == f"matterhub://{source_id}/secret.csv"
    assert data.storage_options == {"hub": str(alice.home), "user": "alice", "groups": []}
    cat.to_yaml_file(str(tmp_path / "secret.yaml"))
    text = (tmp_path / "secret.yaml").read_text()
    assert f"{sha[:2]}/{sha}" not in text, "a catalog must not hold where the blob lies"
    assert f"sha256: {sha}" in text  # the content's hash stays (downloads are checked against it)
    assert cat["secret.csv"].read()["b"].tolist() == [2, 4]


def test_access_is_decided_when_an_entry_is_read(private: tuple[Hub, str, str], tmp_path: Path) -> None:
    """A catalog written by alice and edited to name bob reads nothing: bob may not see the file."""
    alice, source_id, _ = private
    dataset_catalog(alice, source_id).to_yaml_file(str(tmp_path / "alice.yaml"))
    as_bob = (tmp_path / "alice.yaml").read_text().replace("alice", "bob")
    (tmp_path / "bob.yaml").write_text(as_bob)
    with pytest.raises(NotFoundError):
        intake.from_yaml_file(str(tmp_path / "bob.yaml"))["secret.csv"].read()
    again = intake.from_yaml_file(str(tmp_path / "alice.yaml"))["secret.csv"].read()
    assert again["a"].tolist() == [1, 3]


def test_the_filesystem_opens_through_the_hub(private: tuple[Hub, str, str]) -> None:
    alice, source_id, sha = private
    url = f"matterhub://{source_id}/secret.csv"
    with fsspec.open(url, hub=str(alice.home), user="alice").open() as f:
        assert f.read() == b"a,b\n1,2\n3,4\n"
    fs = fsspec.filesystem("matterhub", hub=str(alice.home), user="alice")
    assert fs.info(url)["size"] == 12 and fs.ukey(url) == sha
    with pytest.raises(NotFoundError):
        fsspec.open(url, hub=str(alice.home), user="bob", groups=["lab"]).open()
    with pytest.raises(PermissionError):
        fsspec.open(url, "wb", hub=str(alice.home), user="alice").open()
