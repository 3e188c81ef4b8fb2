"""One suite, two hubs: every test runs against the embedded hub and against the remote
client of a live service over the same data, and must see the same things."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from hub.exceptions import (
    AccessDeniedError,
    AuthenticationError,
    InputValidationError,
    NotFoundError,
    QueryError,
)

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def data(service: Any, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two datasets from real files: a public one (by alice, over the service) and one only
    alice's lab may see (embedded)."""
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(shared_data / "materialsio" / "crystal_structure", src / "crystals")
    shutil.copytree(shared_data / "materialsio" / "gaussian", src / "gaussian")
    remote_alice = service.open("remote", "alice")
    public = remote_alice.submit(
        src / "crystals", title="Four crystals", authors=["Ward, Logan"], visible_to=["public"]
    )
    assert public.status == "complete", public.message
    lab = service.open("embedded", "alice").submit(
        src / "gaussian", title="Lab Gaussian runs", authors=["Ward, Logan"], visible_to=["group:lab"]
    )
    assert lab.status == "complete", lab.message
    return {"public": public.source_id, "lab": lab.source_id, "src": src}


def test_visibility_is_the_same_through_both(as_user: Any, data: dict[str, Any]) -> None:
    seen = {name: {d.source_id for d in as_user(name).datasets()} for name in ("alice", "bob", None)}
    assert seen["alice"] == {data["public"], data["lab"]}
    assert seen["bob"] == {data["public"]}
    assert seen[None] == {data["public"]}
    with pytest.raises(NotFoundError):
        as_user("bob").dataset(data["lab"])
    with pytest.raises(NotFoundError):
        as_user(None).dataset(data["lab"])


def test_search_totals_facets_and_hits(as_user: Any, data: dict[str, Any]) -> None:
    bob = as_user("bob").search(
        "*", facets=["mdf.source_id", "material.elements"], limit=100, kinds=["record"]
    )
    alice = as_user("alice").search("*", facets=["mdf.source_id"], limit=100, kinds=["record"])
    public_records = as_user("alice").dataset(data["public"]).n_records
    lab_records = as_user("alice").dataset(data["lab"]).n_records
    assert bob.total == public_records
    assert alice.total == public_records + lab_records
    assert {b["value"] for b in bob.facets["mdf.source_id"]["buckets"]} == {data["public"]}
    # the crystals' elements, read from the CIF files themselves
    import ase.io

    elements = set()
    for cif in (data["src"] / "crystals").glob("*.cif"):
        elements |= set(ase.io.read(cif).get_chemical_symbols())
    assert {b["value"] for b in bob.facets["material.elements"]["buckets"]} == elements
    assert {h.document["mdf"]["source_id"] for h in bob.hits} == {data["public"]}


def test_filters_sort_paging_and_scroll(as_user: Any, data: dict[str, Any]) -> None:
    hub = as_user("alice")
    al = hub.search("*", filters={"material.elements": ["Al"]}, kinds=["record"])
    assert al.total == 1 and "Al" in al.hits[0].document["material"]["elements"]
    everything = hub.search("*", limit=1000)
    pages = [h.id for off in range(0, everything.total, 3) for h in hub.search("*", limit=3, offset=off).hits]
    assert sorted(pages) == sorted(h.id for h in everything.hits)
    scrolled = [h.id for h in hub.scroll("*")]
    assert len(scrolled) == len(set(scrolled)) == everything.total
    ordered = hub.search("*", sort="-crystal_structure.volume", kinds=["record"], limit=50).hits
    volumes = [
        v for h in ordered if (v := (h.document.get("crystal_structure") or {}).get("volume")) is not None
    ]
    assert volumes == sorted(volumes, reverse=True) and len(volumes) >= 3


def test_bad_query_is_a_query_error_with_position(as_user: Any, data: dict[str, Any]) -> None:
    with pytest.raises(QueryError) as err:
        as_user("bob").search("material.elements:(Co AND")
    assert err.value.position is not None


def test_files_stream_with_verified_sha256(as_user: Any, data: dict[str, Any], tmp_path: Path) -> None:
    hub = as_user("bob")
    ds = hub.dataset(data["public"])
    files = {f["path"]: f for f in ds.files()}
    assert len(files) == 4
    for path, f in files.items():
        with hub.open(ds.source_id, path) as fh:
            body = fh.read()
        assert hashlib.sha256(body).hexdigest() == f["sha256"]
        assert body == (data["src"] / "crystals" / path).read_bytes()
    written = hub.download(ds.source_id, tmp_path / "dl")
    assert sorted(p.relative_to(tmp_path / "dl").as_posix() for p in written) == sorted(files)


def test_records_and_record(as_user: Any, data: dict[str, Any]) -> None:
    hub = as_user("alice")
    records = hub.dataset(data["lab"]).records()
    assert records and all(r["mdf"]["source_id"] == data["lab"] for r in records)
    assert hub.record(records[0]["mdf"]["record_id"]) == records[0]
    with pytest.raises(NotFoundError):
        as_user("bob").record(records[0]["mdf"]["record_id"])


def test_update_metadata_makes_a_new_version(service: Any, kind: str, data: dict[str, Any]) -> None:
    hub = service.open(kind, "alice")
    before = hub.dataset(data["lab"]).source_name
    ds = hub.update_metadata(before, description=f"updated through the {kind} hub")
    assert ds.version >= 2 and ds.source_name == before
    assert len(ds.versions()) == ds.version
    with pytest.raises(AccessDeniedError):
        service.open(kind, "carol").update_metadata(data["public"], description="not mine")


def test_anonymous_cannot_submit_and_bad_tokens_are_refused(service: Any, kind: str, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises((AccessDeniedError, AuthenticationError)):
        service.open(kind, None).submit(tmp_path, title="nope", authors=["A, B"])
    if kind == "remote":
        from hub import Hub

        with pytest.raises(AuthenticationError):
            Hub(service.url, token="mh_not-a-token", progress=False)


def _scale(x: list[float], factor: float = 2.0) -> list[float]:
    """Multiply every value by a factor."""
    return [v * factor for v in x]


def test_servable_publish_run_and_tasks(service: Any, kind: str) -> None:
    hub = service.open(kind, "alice")
    sv = hub.describe(_scale, name=f"scale-{kind}", title="Scale", visible_to=["public"])
    name = hub.publish_servable(sv)
    assert name == f"alice/scale-{kind}"
    bob = service.open(kind, "bob")
    assert bob.run(name, [1.0, 2.5]) == [2.0, 5.0]
    assert bob.run(name, [1.0], parameters={"factor": 3.0}) == [3.0]
    task = bob.run(name, [4.0], asynchronous=True)
    assert task.wait(60).status == "completed" and task.result == [8.0]
    assert bob.task(task.id).result == [8.0]
    with pytest.raises(InputValidationError):
        bob.run(name, "not a list")
    found = bob.servables(f"scale-{kind}")
    assert name in [h.id for h in found.hits]
    assert bob.servable(name).owner == "alice"


def _mean(x: np.ndarray) -> float:
    """The mean of an array."""
    return float(np.asarray(x).mean())


def test_arrays_travel_exactly(service: Any, kind: str) -> None:
    hub = service.open(kind, "alice")
    name = hub.publish_servable(hub.describe(_mean, name=f"mean-{kind}", title="Mean"))
    x = np.random.default_rng(0).normal(size=(64, 64))
    assert hub.run(name, x) == pytest.approx(float(x.mean()), rel=1e-12)


def test_file_endpoint_ranges_and_etag(service: Any, data: dict[str, Any]) -> None:
    hub = service.open("embedded", "bob")
    f = hub.dataset(data["public"]).files()[0]
    url = f"{service.url}/api/datasets/{data['public']}/files/{f['path']}"
    full = httpx.get(url)
    assert full.status_code == 200 and full.headers["etag"] == f'"{f["sha256"]}"'
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == full.content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{f['length']}"
    tail = httpx.get(url, headers={"Range": "bytes=-5"})
    assert tail.content == full.content[-5:]
    assert httpx.get(url, headers={"Range": f"bytes={f['length'] + 5}-"}).status_code == 416
    assert httpx.get(url, headers={"If-None-Match": full.headers["etag"]}).status_code == 304
    lab = service.open("embedded", "alice").dataset(data["lab"]).files()[0]
    hidden = f"{service.url}/api/datasets/{data['lab']}/files/{lab['path']}"
    assert httpx.get(hidden).status_code == 404
    ok = httpx.get(hidden, headers={"Authorization": f"Bearer {service.tokens['alice']}"})
    assert ok.status_code == 200 and hashlib.sha256(ok.content).hexdigest() == lab["sha256"]


def test_submissions_are_queued_and_run_by_the_worker(service: Any, shared_data: Path) -> None:
    token = service.tokens["bob"]
    body = {
        "title": "refused",
        "authors": ["B, Bob"],
        "source": f"{service.url}/api/info",  # loopback: the SSRF guard refuses it
    }
    r = httpx.post(f"{service.url}/api/submissions", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and "loopback" in r.json()["detail"]
    anonymous = httpx.post(f"{service.url}/api/submissions", json=body)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    local = {**body, "source": str(shared_data / "materialsio" / "yaml")}
    r = httpx.post(f"{service.url}/api/submissions", json=local, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403  # the service never reads its own disk for a caller
    with open(shared_data / "materialsio" / "image" / "dog2.jpeg", "rb") as f:
        r = httpx.post(
            f"{service.url}/api/submissions/upload",
            files={"file": ("dog2.jpeg", f)},
            data={"metadata": '{"title": "A dog", "authors": ["B, Bob"], "visible_to": ["user:bob"]}'},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 202 and r.json()["status"] == "queued"
    service.wait_idle()
    sub = service.open("remote", "bob").submission(r.json()["id"])
    assert sub.status == "complete"
    assert sub.source_id in {d.source_id for d in service.open("remote", "bob").datasets()}
    assert sub.source_id not in {d.source_id for d in service.open("remote", "alice").datasets()}


def test_intake_catalogs_read_the_same_data(as_user: Any, data: dict[str, Any]) -> None:
    hub = as_user("alice")
    cat = hub.catalog()
    assert set(cat) == {d.source_id for d in hub.datasets()}
    assert data["public"] in set(cat) and len(cat) == 2
    crystals = cat[data["public"]].read()
    frame = crystals["structures"].read()
    assert len(frame) == 4
    structure_files = [name for name in crystals if name.endswith(".cif")]
    frame = crystals[structure_files[0]].read()
    import ase.io

    truth = ase.io.read(data["src"] / "crystals" / structure_files[0])
    assert frame.atoms[0].get_chemical_formula() == truth.get_chemical_formula()
    hits = hub.search("material.elements:Al", kinds=["record"]).to_catalog()
    assert data["public"] in list(hits)


def test_forge_helpers_work_on_both(as_user: Any, data: dict[str, Any]) -> None:
    from hub.forge import Forge

    forge = Forge(as_user("bob"))
    found = forge.match_elements(["Al", "O"]).search(limit=10)
    assert len(found) == 1
    assert "Al" in found[0]["material"]["elements"]


def test_who_may_run_is_checked_per_caller(service: Any, kind: str) -> None:
    """Views of one hub share a cache of resolved servables: it must never carry one
    caller's right to run into another caller's request."""
    alice = service.open(kind, "alice")
    name = alice.publish_servable(
        alice.describe(
            _scale,
            name=f"lab-only-{kind}",
            title="Lab only",
            visible_to=["public"],
            runnable_by=["group:lab"],
        )
    )
    assert alice.run(name, [1.0]) == [2.0]  # resolved and cached by alice's run
    with pytest.raises(AccessDeniedError):
        service.open(kind, "bob").run(name, [1.0])
    with pytest.raises((AccessDeniedError, AuthenticationError)):
        service.open(kind, None).run(name, [1.0])
    assert service.open(kind, "bob").servable(name).owner == "alice"  # bob may see it


def test_users_and_tokens_through_both(service: Any, kind: str) -> None:
    root = service.open(kind, "root")
    me = root.principal
    name = f"dave-{kind}"
    root.users.create_user(me, name, ["lab"])
    assert name in [u.name for u in root.users.users(me)]
    token, info = root.users.create_token(me, name, label="parity")
    assert token.startswith("mh_") and info.user == name
    from hub import Hub

    dave = Hub(service.url, token=token, progress=False)
    assert dave.principal.user == name and "lab" in dave.principal.groups
    assert [t.id for t in dave.users.tokens(dave.principal)] == [info.id]
    with pytest.raises(AccessDeniedError):
        dave.users.users(dave.principal)  # not an admin
    dave.users.revoke_token(dave.principal, info.id)
    with pytest.raises(AuthenticationError):
        dave.datasets()
    dave.close()
    root.users.delete_user(me, name)
    assert name not in [u.name for u in root.users.users(me)]


def test_unknown_fields_warn_with_the_nearest_names(as_user: Any, data: dict[str, Any]) -> None:
    """The issue's mistype: material.element for material.elements found nothing, silently."""
    res = as_user("bob").search(
        "material.element:Al", facets=["material.element"], filters={"custom.nope": 1}
    )
    assert res.total == 0
    by_where = {w["where"]: w for w in res.warnings}
    assert set(by_where) == {"query", "facets", "filters"}
    assert by_where["query"]["field"] == "material.element"
    assert by_where["query"]["did_you_mean"][0] == "material.elements"
    assert "did you mean 'material.elements'" in by_where["query"]["message"]
    assert res.facets["material.element"]["warning"] == by_where["facets"]["message"]
    assert res.to_dict()["warnings"] == res.warnings
    assert as_user("bob").search("material.elements:Al").warnings == []


def test_unknown_field_warnings_count_only_what_the_caller_may_see(
    as_user: Any, data: dict[str, Any]
) -> None:
    alice, bob = as_user("alice"), as_user("bob")
    lab_only = sorted(set(alice.fields()) - set(bob.fields()))
    assert lab_only, "the lab's Gaussian runs have fields the public crystals have not"
    query = f"_exists_:{lab_only[0]}"
    assert alice.search(query).warnings == []
    assert [w["field"] for w in bob.search(query).warnings] == [lab_only[0]]


def test_submissions_are_strict_through_both(
    service: Any, kind: str, shared_data: Path, tmp_path: Path
) -> None:
    import pandas as pd

    from hub.exceptions import SourceError

    hub = service.open(kind, "alice")
    folder = tmp_path / "dielectric"
    folder.mkdir()
    pd.read_csv(shared_data / "matminer" / "dielectric_constant.csv", skiprows=1, nrows=5).to_csv(
        folder / "dielectric.csv", index=False
    )
    bad = {"material.composition": "formulae"}
    name = f"strict_{kind}"
    failed = hub.submit(folder, title="Strict", authors=["Curie, Marie"], mapping=bad, source_name=name)
    assert failed.status == "failed" and "did you mean 'formula'" in failed.message
    partial = hub.submit(
        folder, title="Strict", authors=["Curie, Marie"], mapping=bad, partial=True, source_name=name
    )
    assert partial.status == "complete", partial.message
    assert hub.dataset(partial.source_id).datacite()["creators"][0]["familyName"] == "Curie"
    before = len(hub.submissions())
    with pytest.raises(SourceError, match="does not exist"):
        hub.submit(tmp_path / "nonexistent", title="Strict", authors=["Curie, Marie"])
    assert len(hub.submissions()) == before
