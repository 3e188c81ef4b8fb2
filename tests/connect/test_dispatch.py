"""Dispatch hooks: what is derived from the catalog follows each committed change, and a hook
that fails never undoes or hides one (acknowledge only what is durable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import Hub
from hub.access import Principal
from hub.access.paths import ServerPaths
from hub.config import HubConfig
from hub.connect.connect import Connect
from hub.connect.request import make_request
from hub.connect.versions import VersionBuilder
from hub.db.database import Database
from hub.exceptions import ConflictError
from hub.index.engine import SearchIndex
from hub.store.blobs import BlobStore

AUTHORS = ["Ward, Logan"]


def test_an_index_failure_keeps_the_dataset_and_a_rebuild_recovers_it(
    hub: Hub, minerals: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: SearchIndex, *args: object, **kwargs: object) -> int:
        raise OSError("no space left on the index disk")

    monkeypatch.setattr(SearchIndex, "replace_sources", broken)
    with pytest.warns(RuntimeWarning, match="search index could not be updated for minerals"):
        sub = hub.submit(minerals, title="Minerals", authors=AUTHORS)
    monkeypatch.undo()
    assert sub.status == "complete" and sub.source_id == "minerals_v1", sub.report()
    n = len(list(minerals.iterdir()))
    assert hub.dataset("minerals").n_files == n and len(hub.dataset("minerals").records()) == n
    assert hub.search("mdf.source_name:minerals").total == 0  # the index missed it
    assert not list((hub.home / "index" / "pending").glob("*.json"))  # and knows: it is stale

    assert hub.rebuild_index() >= n + 1
    assert hub.search("mdf.source_name:minerals", kinds=["dataset"]).total == 1
    assert hub.search("mdf.source_name:minerals", kinds=["record"]).total == n


def test_a_stale_index_is_rebuilt_when_the_hub_is_opened_again(
    hub: Hub, minerals: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SearchIndex, "replace_sources", lambda *a, **k: 1 / 0)
    with pytest.warns(RuntimeWarning):
        hub.update_metadata(hub.submit(minerals, title="Minerals", authors=AUTHORS).source_id, title="New")
    monkeypatch.undo()
    again = Hub(hub.home, progress=False)
    try:
        (hit,) = again.search("mdf.source_name:minerals", kinds=["dataset"]).hits
        assert hit.id == "minerals_v2" and hit.document["dc"]["titles"][0]["title"] == "New"
    finally:
        again.close()


class Recorder:
    """A dispatch hook that notes every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def prepare(self, source_name: str) -> None:
        self.calls.append(("prepare", source_name))

    def dispatch(self, source_name: str) -> None:
        self.calls.append(("dispatch", source_name))

    def abandon(self, source_name: str) -> None:
        self.calls.append(("abandon", source_name))


class Broken(Recorder):
    def dispatch(self, source_name: str) -> None:
        raise RuntimeError("the mirror is down")


def test_hooks_follow_every_change_and_a_failing_one_is_a_warning(
    tmp_path: Path, minerals: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = Database(f"sqlite:///{tmp_path / 'catalog.db'}")
    recorder = Recorder()
    paths = ServerPaths.of(HubConfig.load(tmp_path))

    def connect(user: str, groups: frozenset[str] = frozenset()) -> Connect:
        return Connect(
            catalog,
            BlobStore(tmp_path / "blobs"),
            paths,
            Principal(user, groups),
            progress=False,
            hooks=[Broken(), recorder],
        )

    alice = connect("alice")
    with pytest.warns(RuntimeWarning, match="failed after curated was committed"):
        sub = alice.submit(str(minerals), make_request(title="Curated", authors=AUTHORS, curate=True))
    assert sub.status == "pending_curation"
    with pytest.warns(RuntimeWarning):
        assert connect("carol", frozenset({"curators"})).curate(sub.id, accept=True).status == "complete"
    with pytest.warns(RuntimeWarning):
        assert alice.update_metadata("curated", title="Curated again") == "curated_v2"
    assert recorder.calls == [("prepare", "curated"), ("dispatch", "curated")] * 3

    recorder.calls.clear()

    def refused(*args: object, **kwargs: object) -> str:
        raise ConflictError("the catalog refused it")

    monkeypatch.setattr(VersionBuilder, "publish", refused)
    failed = alice.submit(str(minerals), make_request(title="Curated", authors=AUTHORS))
    assert failed.status == "failed" and failed.message == "the catalog refused it"
    assert recorder.calls == [("prepare", "curated"), ("abandon", "curated")]
    catalog.close()
