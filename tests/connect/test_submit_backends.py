"""Connect, Publish and Discover over a hub whose catalog is SQLite or PostgreSQL:
submissions, versions, metadata updates, curation, access, the search index fed
from the catalog, retries and concurrent submissions."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hub.connect import versions as versions_mod
from hub.exceptions import AccessDeniedError, NotFoundError

AUTHORS = ["Ward, Logan"]
MakeHub = Callable[..., Any]


def test_submit_versions_and_reads(
    make_hub: MakeHub, catalog_url: str, minerals: Path, tmp_path: Path
) -> None:
    hub = make_hub()
    assert hub.config.catalog == catalog_url
    data = tmp_path / "m"
    shutil.copytree(minerals, data)
    n = len(list(minerals.iterdir()))
    v1 = hub.submit(data, title="Minerals", authors=AUTHORS)
    assert v1.status == "complete" and v1.source_id == "minerals_v1", v1.report()
    ds = hub.dataset("minerals")
    records = ds.records()
    assert len(records) == len(ds.files()) == n
    assert [r["mdf"]["scroll_id"] for r in records] == sorted(r["mdf"]["scroll_id"] for r in records)
    assert hub.record(records[0]["mdf"]["record_id"]) == records[0]
    assert ds.metadata["data"]["root_hash"] == ds.manifest()["root_hash"]
    with hub.open(v1.source_id, ds.files()[0]["path"]) as f:
        assert f.read() == (minerals / ds.files()[0]["path"]).read_bytes()

    sorted(data.iterdir())[0].unlink()
    v2 = hub.submit(data, title="Minerals", authors=AUTHORS)
    assert v2.source_id == "minerals_v2"
    assert hub.dataset("minerals").n_files == n - 1
    assert hub.dataset("minerals_v2").metadata["mdf"]["previous_version"] == "minerals_v1"
    assert [d.source_id for d in hub.datasets(all_versions=True)] == ["minerals_v1", "minerals_v2"]
    v3 = hub.update_metadata("minerals", title="Minerals, described", description="More words")
    assert v3.source_id == "minerals_v3" and len(v3.records()) == n - 1
    assert hub.verify("minerals_v1") == []
    assert hub.stats() == {"datasets": 3, "records": 3 * n - 2, "files": 3 * n - 2}
    # the submissions, in the order they were made
    subs = hub.submissions()
    assert [s.id for s in subs[:2]] == [v1.id, v2.id] and all(s.status == "complete" for s in subs)
    assert subs[0].created_at.utcoffset().total_seconds() == 0

    # Discover: the index holds the latest version, fed from the catalog
    res = hub.search("mdf.source_name:minerals AND mdf.resource_type:record", limit=100)
    assert res.total == n - 1 and {h.document["mdf"]["source_id"] for h in res.hits} == {"minerals_v3"}
    hub.close()
    shutil.rmtree(hub.home / "index")
    again = make_hub()  # rebuilds the index from the catalog
    assert again.search("mdf.source_name:minerals AND mdf.resource_type:record", limit=100).total == n - 1


def test_curation_and_visibility(make_hub: MakeHub, minerals: Path) -> None:
    owner = make_hub()
    alice = make_hub(user="alice")
    curator = make_hub(user="carol", groups=["curators"])
    bob = make_hub(user="bob")
    labmate = make_hub(user="dan", groups=["lab"])

    sub = alice.submit(minerals, title="Curated", authors=AUTHORS, curate=True)
    assert sub.status == "pending_curation"
    assert bob.datasets() == [] and bob.search("mdf.source_name:curated").total == 0
    with pytest.raises(AccessDeniedError):
        bob.curate(sub.id, accept=True)
    assert [s.id for s in curator.pending_curation()] == [sub.id]
    assert curator.curate(sub.id, accept=True, reason="fine").status == "complete"
    assert [d.source_id for d in bob.datasets()] == ["curated_v1"]
    assert bob.search("mdf.source_name:curated AND mdf.resource_type:dataset").total == 1
    sub2 = alice.submit(minerals, title="Curated", authors=AUTHORS, curate=True)
    assert curator.curate(sub2.id, accept=False, reason="duplicate").status == "rejected"
    assert alice.dataset("curated").source_id == "curated_v1"

    private = alice.submit(minerals, title="Private", authors=AUTHORS, visible_to=["group:lab"])
    rid = alice.dataset(private.source_id).records()[0]["mdf"]["record_id"]
    for call in (lambda: bob.dataset(private.source_id), lambda: bob.record(rid)):
        with pytest.raises(NotFoundError):
            call()
    assert labmate.record(rid)["mdf"]["record_id"] == rid
    assert bob.search(f'mdf.record_id:"{rid}"').total == 0
    assert labmate.search(f'mdf.record_id:"{rid}"').total == 1
    assert {d.source_id for d in owner.datasets()} == {"curated_v1", "private_v1"}


def test_a_failed_submission_rolls_back_and_retries(
    make_hub: MakeHub, minerals: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = make_hub()
    real = versions_mod.stamp_record
    calls = {"n": 0}

    def fail_late(r: Any, doc: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("crash while stamping records")
        return real(r, doc)

    monkeypatch.setattr(versions_mod, "stamp_record", fail_late)
    with pytest.raises(RuntimeError):
        hub.submit(minerals, title="Half", authors=AUTHORS)
    assert hub.stats() == {"datasets": 0, "records": 0, "files": 0}
    (sub,) = hub.submissions()
    assert sub.status == "failed"
    monkeypatch.undo()
    done = hub.retry(sub.id)
    assert done.status == "complete" and done.source_id == "half_v1"


def test_concurrent_submissions_of_one_name(make_hub: MakeHub, minerals: Path) -> None:
    """The service's pattern: several threads submit to one hub at once."""
    hub = make_hub()
    n = 4
    barrier = threading.Barrier(n)

    def submit(i: int) -> str:
        barrier.wait()
        sub = hub.submit(minerals, title="Race", authors=AUTHORS, source_name="race", tags=[f"t{i}"])
        assert sub.status == "complete", sub.report()
        return str(sub.source_id)

    with ThreadPoolExecutor(n) as pool:
        sids = sorted(pool.map(submit, range(n)))
    assert sids == [f"race_v{v}" for v in range(1, n + 1)]
    assert [d.version for d in hub.datasets(all_versions=True)] == list(range(1, n + 1))
    assert hub.search("mdf.source_name:race AND mdf.resource_type:dataset").total == 1


@pytest.mark.shared_data
def test_real_calculations_folder(make_hub: MakeHub, shared_data: Path) -> None:
    hub = make_hub()
    sub = hub.submit(shared_data / "materialsio", title="MaterialsIO", authors=AUTHORS)
    assert sub.status == "complete", sub.report()
    records = hub.dataset(sub.source_id).records()
    codes = {(r.get("dft") or {}).get("code") for r in records}
    assert {"VASP", "Quantum ESPRESSO", "Gaussian"} <= codes
    assert hub.search("dft.code:VASP").total == 1
