"""One version builder: a submission and a metadata update make their versions the same way,
and both take the next number when a concurrent publisher took theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub import Hub
from hub.connect.versions import Draft, VersionBuilder

AUTHORS = ["Ward, Logan"]


def test_submit_and_update_metadata_share_the_builder_and_its_retry(
    hub: Hub, minerals: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = VersionBuilder.stamp
    stamped: list[tuple[str, int]] = []
    race = {"armed": False}

    def spy(self: VersionBuilder, draft: Draft, version: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        stamped.append((draft.source_name, version))
        if race["armed"]:  # a concurrent publisher takes this version before it is inserted
            race["armed"] = False
            rival = hub.submit(minerals, title="Minerals", authors=AUTHORS, source_name="min")
            assert rival.source_id == f"min_v{version}"
        return real(self, draft, version)

    monkeypatch.setattr(VersionBuilder, "stamp", spy)
    n = len(list(minerals.iterdir()))
    assert hub.submit(minerals, title="Minerals", authors=AUTHORS, source_name="min").source_id == "min_v1"

    race["armed"] = True
    stamped.clear()
    submitted = hub.submit(minerals, title="Minerals", authors=AUTHORS, source_name="min")
    assert submitted.status == "complete" and submitted.source_id == "min_v3", submitted.report()
    assert stamped == [("min", 2), ("min", 2), ("min", 3)]  # ours, the rival's, ours again

    race["armed"] = True
    stamped.clear()
    updated = hub.update_metadata("min_v3", title="Minerals, described", description="More words")
    assert updated.source_id == "min_v5"
    assert stamped == [("min", 4), ("min", 4), ("min", 5)]

    sub_ds = hub.dataset("min_v3")
    for ds, previous in ((sub_ds, "min_v2"), (updated, "min_v3")):
        mdf, data = ds.metadata["mdf"], ds.metadata["data"]
        assert (mdf["version"], mdf["previous_version"]) == (int(ds.source_id[-1]), previous)
        assert data["records"] == len(ds.records()) == n
        assert {r["mdf"]["record_id"].rsplit(".", 1)[0] for r in ds.records()} == {ds.source_id}
        assert {r["mdf"]["ingest_date"] for r in ds.records()} == {mdf["ingest_date"]}
    manifests = [sub_ds.manifest(), updated.manifest()]
    assert [m["source_id"] for m in manifests] == ["min_v3", "min_v5"]
    assert manifests[0].keys() == manifests[1].keys()
    assert (
        manifests[0]["files"] == manifests[1]["files"]
        and manifests[0]["root_hash"] == manifests[1]["root_hash"]
    )
    assert updated.metadata["dc"]["titles"][0]["title"] == "Minerals, described"
    assert hub.search("mdf.source_name:min", kinds=["dataset"]).hits[0].id == "min_v5"
