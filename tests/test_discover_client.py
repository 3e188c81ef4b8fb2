"""Hub-level Discover behaviour: downloads of search results, per-dataset views of one file."""

from __future__ import annotations

from pathlib import Path

import ase
import pytest

from hub import Hub

MINERALS = Path(ase.__file__).parent / "test" / "testdata" / "minerals"


@pytest.fixture()
def home(tmp_path):
    if not MINERALS.is_dir():
        pytest.skip("ase ships no test data")
    return tmp_path / "hub"


def test_download_search_results(home, tmp_path):
    hub = Hub(home, progress=False)
    sub = hub.submit(MINERALS, title="Minerals", authors=["Doe, A"])
    res = hub.search("mdf.resource_type:record AND material.elements:O", limit=100)
    assert res.total > 0
    out = hub.download(res, tmp_path / "dl")
    expected = {f["path"] for h in res.hits for f in h.document["files"]}
    assert {p.name for p in out} == expected
    assert all(p.parent.name == sub.source_id for p in out)
    for p in out:
        assert p.read_bytes() == (MINERALS / p.name).read_bytes()


def test_one_file_two_views_each_sees_its_own(home):
    """The same file in two datasets with different visibility: each principal sees only its record."""
    alice = Hub(home, user="alice", progress=False)
    bob = Hub(home, user="bob", progress=False)
    a = alice.submit(
        MINERALS, title="Alice view", authors=["Doe, A"], visible_to=["user:alice"], tags=["alice"]
    )
    b = bob.submit(MINERALS, title="Bob view", authors=["Doe, B"], visible_to=["user:bob"], tags=["bob"])
    name = sorted(p.name for p in MINERALS.iterdir())[0]
    q = f'files.filename:"{name}"'
    assert [h.document["mdf"]["source_id"] for h in alice.search(q).hits] == [a.source_id]
    assert [h.document["mdf"]["source_id"] for h in bob.search(q).hits] == [b.source_id]
    assert Hub(home, user="carol", progress=False).search(q).total == 0
    assert Hub(home, progress=False).search(q).total == 2  # the hub's admin sees both


def test_index_is_rebuilt_when_missing(home):
    hub = Hub(home, progress=False)
    hub.submit(MINERALS, title="Minerals", authors=["Doe, A"])
    before = hub.search("material.elements:O").total
    hub.close()
    import shutil

    shutil.rmtree(home / "index")
    again = Hub(home, progress=False)
    assert again.search("material.elements:O").total == before > 0
