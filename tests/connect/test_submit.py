"""Connect end to end: folders, archives and URLs in; datasets, files and records out."""

from __future__ import annotations

import http.server
import os
import shutil
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from hub import Hub
from hub.exceptions import AccessDeniedError, IntegrityError, NotFoundError, SourceError, ValidationError

AUTHORS = ["Ward, Logan"]


def test_folder_of_real_cifs(hub, minerals):
    sub = hub.submit(minerals, title="COD minerals", authors=AUTHORS)
    assert sub.status == "complete", sub.report()
    assert sub.source_id == "cod_minerals_v1"
    assert [s["status"] for s in sub.steps] == ["done", "done", "done", "done", "skipped", "done"]
    ds = hub.dataset("cod_minerals")
    files = ds.files()
    assert len(files) == ds.n_files == len(list(minerals.glob("*")))
    records = ds.records()
    assert len(records) == len(files)
    for r in records:
        assert r["mdf"]["source_id"] == "cod_minerals_v1"
        assert r["material"]["elements"], r["files"][0]["path"]
        assert r["crystal_structure"]["space_group_number"] >= 1
        assert "crystal" in r["mdf"]["extractors"]
    rec = hub.record(records[0]["mdf"]["record_id"])
    assert rec == records[0]
    assert ds.metadata["data"]["root_hash"] == ds.manifest()["root_hash"]


def test_shared_materialsio_calculations_are_grouped(hub, shared_data):
    sub = hub.submit(shared_data / "materialsio", title="MaterialsIO", authors=AUTHORS)
    assert sub.status == "complete", sub.report()
    records = hub.dataset(sub.source_id).records()
    by_first = {r["files"][0]["path"]: r for r in records}
    vasp = [r for r in records if (r.get("dft") or {}).get("code") == "VASP"]
    assert len(vasp) == 1, "the VASP run folder is one record"
    assert len(vasp[0]["files"]) == len(list((shared_data / "materialsio/vasp/AlNi_static_LDA").iterdir()))
    qe = [r for r in records if (r.get("dft") or {}).get("code") == "Quantum ESPRESSO"]
    assert len(qe) == 1 and len(qe[0]["files"]) > 70, "the pw.x folder and its subfolders are one record"
    assert not any(p.startswith("pwscf/") for p in by_first if p not in {qe[0]["files"][0]["path"]})
    gaussian = [r for r in records if (r.get("dft") or {}).get("code") == "Gaussian"]
    assert gaussian and gaussian[0]["material"]["elements"] == ["C", "H", "N", "O"]
    assert by_first["crystal_structure/diamond.cif"]["crystal_structure"]["space_group_number"] == 227


def test_zip_archive_and_single_file(hub, minerals, tmp_path):
    z = tmp_path / "minerals.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(minerals.iterdir()):
            zf.write(f, f"minerals/{f.name}")
    sub = hub.submit(z, title="Zipped minerals", authors=AUTHORS)
    assert sub.status == "complete", sub.report()
    paths = sorted(f["path"] for f in hub.dataset(sub.source_id).files())
    assert paths == sorted(f.name for f in minerals.iterdir()), "the archive's single top folder is the root"

    one = next(iter(sorted(minerals.iterdir())))
    sub1 = hub.submit(one, title="One mineral", authors=AUTHORS)
    assert hub.dataset(sub1.source_id).n_files == 1


def test_fsspec_memory_url(hub, minerals):
    import fsspec

    fs = fsspec.filesystem("memory")
    for f in minerals.iterdir():
        fs.pipe(f"/upload/minerals/{f.name}", f.read_bytes())
    sub = hub.submit("memory://upload/minerals", title="From memory", authors=AUTHORS)
    assert sub.status == "complete", sub.report()
    assert hub.dataset(sub.source_id).n_files == len(list(minerals.iterdir()))


@pytest.fixture()
def http_root(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_url_of_an_archive(hub, minerals, http_root):
    root, base = http_root
    shutil.make_archive(str(root / "minerals"), "gztar", minerals.parent, minerals.name)
    sub = hub.submit(f"{base}/minerals.tar.gz", title="Over HTTP", authors=AUTHORS)
    assert sub.status == "complete", sub.report()
    assert hub.dataset(sub.source_id).n_files == len(list(minerals.iterdir()))


def test_missing_http_source(hub, http_root):
    _root, base = http_root
    sub = hub.submit(f"{base}/nothing.zip", title="Nothing", authors=AUTHORS)
    assert sub.status == "failed" and "does not exist" in sub.message
    assert hub.datasets() == []


def test_bad_files_are_per_file_errors(hub, minerals, tmp_path):
    data = tmp_path / "mixed"
    shutil.copytree(minerals, data)
    good = sorted(data.glob("*.cif"))[0]
    (data / "truncated.cif").write_text(good.read_text()[:300])
    (data / "noise.cif").write_bytes(bytes(range(256)) * 40)
    (data / "empty_dir").mkdir()
    (data / "outside.cif").symlink_to(good.resolve().parent.parent / "outside-target.cif")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (data / "leak.txt").symlink_to(outside)
    (data / "dangling.xyz").symlink_to(data / "not-there.xyz")
    os.mkfifo(data / "pipe.cif")

    sub = hub.submit(data, title="Mixed", authors=AUTHORS)
    assert sub.status == "complete", sub.report()
    by_path = {e["path"]: e for e in sub.errors}
    assert by_path["truncated.cif"]["extractor"] == "crystal"
    assert by_path["noise.cif"]["extractor"] == "crystal"
    assert "outside the submitted folder" in by_path["leak.txt"]["message"]
    assert "outside.cif" in by_path
    assert "broken symbolic link" in by_path["dangling.xyz"]["message"]
    assert "not a regular file" in by_path["pipe.cif"]["message"]
    paths = {f["path"] for f in hub.dataset(sub.source_id).files()}
    assert "leak.txt" not in paths and "outside.cif" not in paths
    assert {"truncated.cif", "noise.cif"} <= paths, "a file whose extraction failed is still published"
    assert len(paths) == len(list(minerals.iterdir())) + 2


@pytest.mark.skipif(shutil.which("id") is None, reason="needs id")
def test_unreadable_file(hub, minerals, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can read a chmod 000 file")
    data = tmp_path / "d"
    shutil.copytree(minerals, data)
    (data / "locked.cif").write_text("x")
    (data / "locked.cif").chmod(0)
    sub = hub.submit(data, title="Locked", authors=AUTHORS)
    assert any(e["path"] == "locked.cif" and "cannot be read" in e["message"] for e in sub.errors)


def test_empty_folder_and_missing_source(hub, tmp_path, blob_files):
    (tmp_path / "empty").mkdir()
    sub = hub.submit(tmp_path / "empty", title="Empty", authors=AUTHORS)
    assert sub.status == "failed" and "holds no files" in sub.message
    assert hub.datasets() == [] and blob_files(hub) == []


@pytest.mark.parametrize("wait", [True, False])
def test_a_missing_local_source_raises_at_once_and_leaves_no_submission(hub, tmp_path, wait):
    with pytest.raises(SourceError, match="does not exist"):
        hub.submit(tmp_path / "nope", title="Nope", authors=AUTHORS, wait=wait)
    with pytest.raises(SourceError, match="does not exist"):
        hub.submit(f"file://{tmp_path}/nope", title="Nope", authors=AUTHORS, wait=wait)
    assert hub.submissions() == []


def test_unsafe_archive_fails_whole_and_leaves_nothing(hub, tmp_path, blob_files):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("fine.txt", "fine")
        zf.writestr("../escape", "boom")
    sub = hub.submit(z, title="Evil", authors=AUTHORS)
    assert sub.status == "failed" and "outside" in sub.message
    assert hub.datasets() == [] and blob_files(hub) == []
    assert not list((hub.home / "staging").glob("*/*")), "staging is cleaned"


def test_bad_metadata_fails_before_any_work(hub, minerals):
    with pytest.raises(ValidationError, match="authors"):
        hub.submit(minerals, title="T", authors=[])
    with pytest.raises(ValidationError, match="source_name"):
        hub.submit(minerals, title="T", authors=AUTHORS, source_name="Bad Name")
    with pytest.raises(ValidationError, match="unknown DataCite field"):
        hub.submit(minerals, title="T", authors=AUTHORS, colour="blue")
    with pytest.raises(ValidationError, match="mapping target"):
        hub.submit(minerals, title="T", authors=AUTHORS, mapping={"bandgap": "band_gap"})
    assert hub.submissions() == []


def test_mapping_rows_become_records(hub, tmp_path):
    table = tmp_path / "props" / "props.csv"
    table.parent.mkdir()
    table.write_text("# ref: made here\nformula,band_gap\nAl2O3,8.8\nNaF,11.5\nGaAs,1.42\n")
    sub = hub.submit(
        table.parent,
        title="Gaps",
        authors=AUTHORS,
        mapping={"material.composition": "formula", "custom.band_gap": "band_gap"},
    )
    assert sub.status == "complete", sub.report()
    records = hub.dataset(sub.source_id).records()
    assert [r["material"]["composition"] for r in records] == ["Al2O3", "NaF", "GaAs"]
    assert records[2]["material"]["elements"] == ["As", "Ga"]
    assert records[0]["custom"]["band_gap"] == 8.8
    assert all(r["files"][0]["path"] == "props.csv" for r in records)


def test_mapping_naming_missing_column_is_reported_with_partial(hub, tmp_path):
    table = tmp_path / "t" / "t.csv"
    table.parent.mkdir()
    table.write_text("formula,gap\nNaF,11.5\n")
    sub = hub.submit(
        table.parent, title="T", authors=AUTHORS, mapping={"custom.band_gap": "band_gap"}, partial=True
    )
    assert sub.status == "complete", sub.report()
    errs = [e for e in sub.errors if e["extractor"] == "mapping"]
    assert errs and "band_gap" in errs[0]["message"] and "gap" in errs[0]["message"]


def _dielectric_rows(shared_data: Path, folder: Path, n: int = 5) -> Path:
    """The first ``n`` rows of matminer's dielectric table (its header kept)."""
    import pandas as pd

    folder.mkdir()
    table = pd.read_csv(shared_data / "matminer" / "dielectric_constant.csv", skiprows=1, nrows=n)
    table.to_csv(folder / "dielectric.csv", index=False)
    return folder


def test_a_mapping_naming_a_missing_column_fails_before_publishing(hub, tmp_path, shared_data, blob_files):
    """The issue's case: "formulae" for the table's "formula" published 1 record instead of 5."""
    data = _dielectric_rows(shared_data, tmp_path / "dielectric")
    bad = {"material.composition": "formulae", "custom.band_gap": "band_gap"}
    sub = hub.submit(data, title="Dielectric", authors=AUTHORS, mapping=bad)
    assert sub.status == "failed"
    assert "did you mean 'formula'" in sub.message and "partial=True" in sub.message
    assert next(s for s in sub.steps if s["name"] == "extract")["status"] == "failed"
    assert hub.datasets() == []

    partial = hub.submit(data, title="Dielectric", authors=AUTHORS, mapping=bad, partial=True)
    assert partial.status == "complete" and len(hub.dataset(partial.source_id).records()) == 1

    good = {"material.composition": "formula", "custom.band_gap": "band_gap"}
    sub = hub.submit(data, title="Dielectric", authors=AUTHORS, mapping=good)
    assert sub.status == "complete", sub.report()
    assert len(hub.dataset(sub.source_id).records()) == 5


def test_authors_are_split_into_family_and_given_names(hub, minerals):
    sub = hub.submit(minerals, title="Minerals", authors=["Marie Curie", "van der Waals, Johannes Diderik"])
    creators = hub.dataset(sub.source_id).datacite()["creators"]
    assert [(c["name"], c["familyName"], c["givenName"]) for c in creators] == [
        ("Curie, Marie", "Curie", "Marie"),
        ("van der Waals, Johannes Diderik", "van der Waals", "Johannes Diderik"),
    ]
    for unsplittable in ("Curie", "Curie,"):
        with pytest.raises(ValidationError, match='"Family, Given"'):
            hub.submit(minerals, title="Minerals", authors=[unsplittable])
    organisation = {"name": "Materials Data Facility", "nameType": "Organizational"}
    sub = hub.submit(minerals, title="Minerals", authors=[organisation])
    assert hub.dataset(sub.source_id).datacite()["creators"][0]["name"] == "Materials Data Facility"
    assert len(hub.submissions()) == 2


def test_compositions_are_hill_formulas(hub, shared_data, tmp_path):
    """COD 9001665 (artroeite, AlPbF3(OH)2): ASE's "hill" mode gave H2AlF3O2Pb."""
    data = tmp_path / "artroeite"
    data.mkdir()
    shutil.copy(shared_data / "ase" / "minerals" / "cod_9001665.cif", data)
    sub = hub.submit(data, title="Artroeite", authors=AUTHORS)
    (record,) = hub.dataset(sub.source_id).records()
    assert record["material"]["composition"] == "AlF3H2O2Pb"
    hits = hub.search('material.composition:"AlF3H2O2Pb"')
    assert hits.total == 1


def test_versions_keep_old_ones_unchanged(hub, minerals, tmp_path):
    data = tmp_path / "m"
    shutil.copytree(minerals, data)
    v1 = hub.submit(data, title="Minerals", authors=AUTHORS)
    first = sorted(data.iterdir())[0]
    first.unlink()
    v2 = hub.submit(data, title="Minerals", authors=AUTHORS)
    assert (v1.source_id, v2.source_id) == ("minerals_v1", "minerals_v2")
    assert hub.dataset("minerals").source_id == "minerals_v2"
    assert hub.dataset("minerals_v1").n_files == len(list(minerals.iterdir()))
    assert hub.dataset("minerals_v2").n_files == len(list(minerals.iterdir())) - 1
    assert hub.dataset("minerals_v2").metadata["mdf"]["previous_version"] == "minerals_v1"
    assert len(hub.datasets()) == 1 and len(hub.datasets(all_versions=True)) == 2
    assert hub.verify("minerals_v1") == []


def test_metadata_only_update_copies_no_blob(hub, minerals, blob_files):
    sub = hub.submit(minerals, title="Minerals", authors=AUTHORS, source_name="min")
    before = len(blob_files(hub))
    ds2 = hub.update_metadata("min", title="COD minerals, described", description="Better words")
    assert ds2.source_id == "min_v2" and ds2.title == "COD minerals, described"
    assert len(blob_files(hub)) == before + 1, "only the new manifest is written"
    assert [f["sha256"] for f in ds2.files()] == [f["sha256"] for f in hub.dataset(sub.source_id).files()]
    assert len(ds2.records()) == len(hub.dataset("min_v1").records())
    assert ds2.records()[0]["mdf"]["source_id"] == "min_v2"
    assert hub.dataset("min_v1").title == "Minerals"
    assert ds2.datacite()["descriptions"][0]["description"] == "Better words"


def test_download_verifies_every_sha256(hub, minerals, tmp_path):
    sub = hub.submit(minerals, title="Minerals", authors=AUTHORS)
    out = hub.download(sub.source_id, tmp_path / "dl")
    assert sorted(p.name for p in out) == sorted(p.name for p in minerals.iterdir())
    for p in out:
        assert p.read_bytes() == (minerals / p.name).read_bytes()
    victim = hub.dataset(sub.source_id).files()[0]
    blob = hub._store.path(victim["sha256"])
    Path(blob).write_bytes(b"tampered")
    with pytest.raises(IntegrityError):
        hub.download(sub.source_id, tmp_path / "dl2", paths=[victim["path"]])
    assert not (tmp_path / "dl2" / victim["path"]).exists()
    assert hub.verify(sub.source_id) == [victim["path"]]
    with hub.open(sub.source_id, hub.dataset(sub.source_id).files()[1]["path"]) as f:
        assert f.read().startswith(b"#") or True


def test_open_reads_a_file(hub, minerals):
    sub = hub.submit(minerals, title="Minerals", authors=AUTHORS)
    name = sorted(p.name for p in minerals.iterdir())[0]
    with hub.open(sub.source_id, name) as f:
        assert f.read() == (minerals / name).read_bytes()
    with pytest.raises(NotFoundError):
        hub.open(sub.source_id, "nope.cif")


def test_curation_accept_and_reject(hub, minerals, tmp_path):
    alice = Hub(hub.home, user="alice", progress=False)
    curator = Hub(hub.home, user="carol", groups=["curators"], progress=False)
    bob = Hub(hub.home, user="bob", progress=False)
    sub = alice.submit(minerals, title="Curated", authors=AUTHORS, curate=True)
    assert sub.status == "pending_curation"
    assert bob.datasets() == [], "waiting datasets are not public"
    assert [d.source_id for d in alice.datasets()] == ["curated_v1"]
    with pytest.raises(AccessDeniedError):
        bob.curate(sub.id, accept=True)
    assert [s.id for s in curator.pending_curation()] == [sub.id]
    done = curator.curate(sub.id, accept=True, reason="looks right")
    assert done.status == "complete" and "looks right" in done.message
    assert [d.source_id for d in bob.datasets()] == ["curated_v1"]

    sub2 = alice.submit(minerals, title="Curated", authors=AUTHORS, curate=True)
    assert sub2.source_id == "curated_v2"
    rejected = curator.curate(sub2.id, accept=False, reason="duplicate of v1")
    assert rejected.status == "rejected" and "duplicate" in rejected.message
    with pytest.raises(NotFoundError):
        alice.dataset("curated_v2")
    assert alice.dataset("curated").source_id == "curated_v1"


def test_private_datasets_are_invisible(hub, minerals):
    alice = Hub(hub.home, user="alice", progress=False)
    sub = alice.submit(minerals, title="Private", authors=AUTHORS, visible_to=["group:lab"])
    rid = alice.dataset(sub.source_id).records()[0]["mdf"]["record_id"]
    bob = Hub(hub.home, user="bob", progress=False)
    labmate = Hub(hub.home, user="dan", groups=["lab"], progress=False)
    assert bob.datasets() == []
    for call in (
        lambda: bob.dataset(sub.source_id),
        lambda: bob.record(rid),
        lambda: bob.open(sub.source_id, "x"),
        lambda: bob.download(sub.source_id, "/tmp/never"),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert labmate.record(rid)["mdf"]["record_id"] == rid
    with pytest.raises(AccessDeniedError):
        labmate.update_metadata(sub.source_id, title="mine now")


def test_g4mp2_molecules_with_their_energies(hub, shared_data):
    sub = hub.submit(shared_data / "g4mp2" / "GDB_Sugar_Data", title="G4MP2 sugars", authors=AUTHORS)
    assert sub.status == "complete" and sub.errors == [], sub.report()
    records = hub.dataset(sub.source_id).records()
    molecules = [r for r in records if r["files"][0]["path"].endswith(".xyz")]
    assert len(molecules) == 102
    formic = next(r for r in molecules if r["files"][0]["path"] == "acid-formicacid.xyz")
    assert formic["material"]["composition"] == "CH2O2"
    assert formic["dft"]["energy_method"] == "G4MP2"
    assert formic["dft"]["total_energy"] == pytest.approx(-189.567759 * 27.211386, rel=1e-6)
    assert formic["crystal_structure"]["pbc"] == [False, False, False]


def test_real_vasp_files_and_the_poscar_without_species(hub, shared_data):
    sub = hub.submit(shared_data / "ase" / "vasp", title="ASE VASP files", authors=AUTHORS)
    assert sub.status == "complete", sub.report()
    (err,) = sub.errors
    assert err["path"] == "POSCAR_example_1" and "no species line" in err["message"]
    records = {r["files"][0]["path"]: r for r in hub.dataset(sub.source_id).records()}
    assert records["OUTCAR_example_1"]["material"]["elements"] == ["Ni"]
    assert records["OUTCAR_example_1"]["dft"]["code"] == "VASP"
    assert "POSCAR_example_1" in records, "the file is still published, with its generic record"
