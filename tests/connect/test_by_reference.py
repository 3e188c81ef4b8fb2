"""Publishing by reference (``hub.submit(url, copy=False)``) against a real HTTP server on loopback.

The server (``range_server``: ``http.server`` with ``Range`` support) serves copies of real
files from ../shared/data (a VASP run folder, COD CIFs, a Keras HDF5 weights file) and
counts the bytes it sends.  fsspec's memory and local filesystems stand in for object
stores.  The hub must keep metadata only (no blob for a referenced file), read the source
with its sha256 checked, catch a changed source (verify and reads) and name a vanished one.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import fsspec
import numpy as np
import pytest
from click.testing import CliRunner
from range_server import Counter, serve

import hub.catalog  # noqa: F401  (registers the matterhub:// filesystem)
from hub import Hub
from hub.cli.commands import main as cli
from hub.exceptions import NotFoundError, SourceChangedError, SourceError

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
VASP = DATA / "materialsio" / "vasp" / "AlNi_static_LDA"
CIFS = DATA / "ase" / "minerals"
WEIGHTS = DATA / "cdi_nn" / "phase_weights.hdf5"


def _need(*paths: Path) -> None:
    for p in paths:
        if not p.exists():
            pytest.skip(f"{p} (../shared/data) is not here")


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A copy of real files: a VASP run, two CIFs and an HDF5 file (the source, changed by tests)."""
    _need(VASP, CIFS, WEIGHTS)
    root = tmp_path / "site" / "study"
    shutil.copytree(VASP, root / "AlNi_static_LDA")
    for cif in sorted(CIFS.glob("*.cif"))[:2]:
        shutil.copy(cif, root / cif.name)
    shutil.copy(WEIGHTS, root / WEIGHTS.name)
    return root


@pytest.fixture()
def site(folder: Path) -> Iterator[tuple[str, Counter]]:
    with serve(folder.parent) as (url, counter):
        yield f"{url}/study/", counter


def _blobs(h: Hub) -> set[str]:
    return {p.name for p in Path(h.config.store).rglob("*") if p.is_file() and not p.name.startswith(".")}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _submit(h: Hub, source: str, **kw: object) -> str:
    sub = h.submit(source, title="By reference", authors=["Ward, Logan"], copy=False, **kw)
    assert sub.status == "complete", (sub.message, sub.errors)
    assert sub.source_id is not None
    return sub.source_id


def test_the_hub_keeps_metadata_only_and_reads_the_source(
    hub: Hub, folder: Path, site: tuple[str, Counter], tmp_path: Path
) -> None:
    url, _ = site
    sid = _submit(hub, url)
    files = hub.files(sid)
    local = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    assert {f["path"] for f in files} == set(local)
    blobs = _blobs(hub)
    for f in files:  # no blob for any referenced file: only the manifest is stored
        assert f["sha256"] == _sha(local[f["path"]])
        assert f["url"] == url + f["path"]
        assert f["sha256"] not in blobs
    assert blobs == {hub.dataset(sid).metadata["data"]["manifest"]}
    doc = hub.dataset(sid).metadata
    assert doc["mdf"]["by_reference"] is True
    records = hub.records(sid)
    assert records and all(r["mdf"]["by_reference"] for r in records)
    assert all(f["url"].startswith(url) for r in records for f in r["files"])
    vasp = next(r for r in records if r["files"][0]["path"].startswith("AlNi_static_LDA/"))
    assert set(vasp["material"]["elements"]) == {"Al", "Ni"}  # the VASP extractor read the run
    arrays = next(r for r in records if r["files"][0]["path"] == WEIGHTS.name)
    assert arrays["arrays"]["format"] == "hdf5"  # read in place, in range requests

    for path, p in local.items():  # every read equals the source
        with hub.open(sid, path) as f:
            assert f.read() == p.read_bytes()
    out = hub.download(sid, tmp_path / "out")
    assert all(o.read_bytes() == local[o.relative_to(tmp_path / "out").as_posix()].read_bytes() for o in out)
    cif = next(p for p in local if p.endswith(".cif"))
    with fsspec.open(hub.file_locations(sid)[cif].url, **hub.file_locations(sid)[cif].storage_options) as f:
        assert f.read() == local[cif].read_bytes()  # the matterhub:// filesystem (Intake catalogs)
    assert hub.verify(sid) == []


def test_a_changed_source_is_caught_by_verify_and_by_reads(
    hub: Hub, folder: Path, site: tuple[str, Counter], tmp_path: Path
) -> None:
    url, _ = site
    sid = _submit(hub, url)
    cif = sorted(folder.glob("*.cif"))[0]
    data = bytearray(cif.read_bytes())
    data[10] ^= 0x20  # same size, different bytes
    cif.write_bytes(bytes(data))
    poscar = folder / "AlNi_static_LDA" / "POSCAR"
    poscar.write_bytes(poscar.read_bytes() + b"\n")  # a different size
    assert hub.verify(sid) == sorted([cif.name, "AlNi_static_LDA/POSCAR"])
    with hub.open(sid, cif.name) as f, pytest.raises(SourceChangedError, match=cif.name):
        f.read()
    with pytest.raises(SourceChangedError, match="AlNi_static_LDA/POSCAR"):
        hub.open(sid, "AlNi_static_LDA/POSCAR")
    with pytest.raises(SourceChangedError, match=cif.name):
        hub.download(sid, tmp_path / "out", paths=[cif.name])
    assert not (tmp_path / "out" / cif.name).exists()  # never silently different bytes


def test_a_vanished_source_is_a_clear_error(hub: Hub, folder: Path, site: tuple[str, Counter]) -> None:
    url, _ = site
    sid = _submit(hub, url)
    (folder / WEIGHTS.name).unlink()
    assert hub.verify(sid) == [WEIGHTS.name]
    with pytest.raises(NotFoundError, match=WEIGHTS.name):
        hub.open(sid, WEIGHTS.name)


def test_header_only_extraction_reads_a_fraction_of_a_large_file(hub: Hub, tmp_path: Path) -> None:
    """A 64 MB HDF5 file (fixed seed) with a SHA256SUMS beside it: extraction reads its header only."""
    h5py = pytest.importorskip("h5py")
    root = tmp_path / "site" / "arrays"
    root.mkdir(parents=True)
    rng = np.random.default_rng(22)
    with h5py.File(root / "field.h5", "w") as f:
        f.attrs["instrument"] = "loopback"
        f.create_dataset("density", data=rng.random((1024, 1024, 8)), chunks=(128, 128, 8))
        f.create_dataset("mask", data=rng.integers(0, 2, (1024, 1024), dtype="u1"))
    size = (root / "field.h5").stat().st_size
    (root / "SHA256SUMS").write_text(f"{_sha(root / 'field.h5')}  field.h5\n")
    with serve(root.parent) as (base, counter):
        sid = _submit(hub, f"{base}/arrays/")
        read = counter.bytes
        rec = next(r for r in hub.records(sid) if r["files"][0]["path"] == "field.h5")
        assert {v["name"] for v in rec["arrays"]["variables"]} == {"density", "mask"}
        assert read < size / 20, f"{read:,} bytes read of a {size:,}-byte file"
        counter.reset()
        assert hub.verify(sid) == []  # the declared sha256 holds: verify read the file once
        assert counter.bytes >= size
        hub_root = Path(hub.config.store)
        assert sum(p.stat().st_size for p in hub_root.rglob("*") if p.is_file()) < 100_000


def test_without_declared_checksums_each_file_is_streamed_once_and_not_kept(hub: Hub, tmp_path: Path) -> None:
    _need(WEIGHTS)
    root = tmp_path / "site"
    root.mkdir()
    shutil.copy(WEIGHTS, root / WEIGHTS.name)
    with serve(root) as (base, counter):
        sid = _submit(hub, f"{base}/{WEIGHTS.name}")
        assert WEIGHTS.stat().st_size <= counter.bytes < 2 * WEIGHTS.stat().st_size
    assert hub.files(sid)[0]["sha256"] == _sha(WEIGHTS)
    assert hub.files(sid)[0]["sha256"] not in _blobs(hub)


def test_memory_and_local_filesystems_as_object_store_stand_ins(hub: Hub, folder: Path) -> None:
    mem = fsspec.filesystem("memory")
    cifs = sorted(folder.glob("*.cif"))
    for cif in cifs:
        mem.pipe(f"/bucket/cifs/{cif.name}", cif.read_bytes())
    try:
        sid = _submit(hub, "memory://bucket/cifs", source_name="in_memory")
        assert {f["url"] for f in hub.files(sid)} == {f"memory:///bucket/cifs/{c.name}" for c in cifs}
        assert all(r["material"]["elements"] for r in hub.records(sid))
        with hub.open(sid, cifs[0].name) as f:
            assert f.read() == cifs[0].read_bytes()
        mem.pipe(f"/bucket/cifs/{cifs[0].name}", b"x" * len(cifs[0].read_bytes()))
        assert hub.verify(sid) == [cifs[0].name]
    finally:
        mem.rm("/bucket", recursive=True)

    sid = _submit(hub, str(folder / "AlNi_static_LDA"), source_name="local_path")
    assert all(f["url"].startswith("file://") for f in hub.files(sid))
    assert not {f["sha256"] for f in hub.files(sid)} & _blobs(hub)
    (folder / "AlNi_static_LDA" / "INCAR").unlink()
    assert hub.verify(sid) == ["INCAR"]


def test_a_metadata_update_keeps_the_references(hub: Hub, site: tuple[str, Counter]) -> None:
    url, _ = site
    sid = _submit(hub, url)
    new = hub.update_metadata("by_reference", tags=["moved-on"]).source_id
    assert [f.get("url") for f in hub.files(new)] == [f.get("url") for f in hub.files(sid)]
    with hub.open(new, WEIGHTS.name) as f:
        assert f.read() == WEIGHTS.read_bytes()


def test_credentials_in_the_url_are_refused(hub: Hub) -> None:
    sub = hub.submit("https://alice:secret@data.example.org/x/", title="T", authors=["A, B"], copy=False)
    assert sub.status == "failed" and "without a user or password" in (sub.message or "")
    with pytest.raises(SourceError):
        from hub.connect.reference import source_url

        source_url("s3://key:secret@bucket/x")


def test_the_command_line_publishes_by_reference(tmp_path: Path, site: tuple[str, Counter]) -> None:
    url, _ = site
    result = CliRunner().invoke(
        cli,
        [
            "--hub",
            str(tmp_path / "cli-hub"),
            "submit",
            url,
            "--title",
            "CLI ref",
            "--author",
            "Ward, Logan",
            "--no-copy",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    with Hub(tmp_path / "cli-hub", progress=False) as h:
        assert h.dataset("cli_ref").metadata["mdf"]["by_reference"] is True


def test_a_declared_sha256_opens_no_blob_of_another_dataset(tmp_path: Path, folder: Path) -> None:
    """A SHA256SUMS may declare any sha256: a referenced file must not make a copied blob readable."""
    cif = sorted(folder.glob("*.cif"))[0]
    secret = hashlib.sha256(cif.read_bytes()).hexdigest()
    with Hub(tmp_path / "shared-hub", progress=False) as root:
        as_user = {}
        for name in ("bob", "mallory"):
            root.users.ensure_user(name, [])
            token, _ = root.users.create_token(root.principal, name)
            as_user[name] = root.acting_as(root.users.authenticate(token))
        bob, mallory = as_user["bob"], as_user["mallory"]
        bob.submit(cif, title="Bob private", authors=["Bob, B"], visible_to=["bob"])
        mem = fsspec.filesystem("memory")
        mem.pipe("/mallory/claim.txt", b"not the secret")
        mem.pipe("/mallory/SHA256SUMS", f"{secret}  claim.txt\n".encode())
        try:
            sub = mallory.submit("memory://mallory", title="Claim", authors=["M, M"], copy=False)
            assert sub.status == "complete", sub.message
            claimed = next(f for f in mallory.files(sub.source_id) if f["path"] == "claim.txt")
            assert claimed["sha256"] == secret
            with pytest.raises(NotFoundError):
                mallory.provenance(secret)  # the store's copy of bob's file stays bob's
            with mallory.open(sub.source_id, "claim.txt") as f, pytest.raises(SourceChangedError):
                f.read()  # and the false claim is caught on the first read
            assert mallory.verify(sub.source_id) == ["claim.txt"]
        finally:
            mem.rm("/mallory", recursive=True)


def test_referenced_records_are_ordinary_records_under_the_dataset_acl(
    tmp_path: Path, site: tuple[str, Counter]
) -> None:
    url, _ = site
    with Hub(tmp_path / "acl-hub", progress=False) as root:
        as_user = {}
        for name in ("bob", "mallory"):
            root.users.ensure_user(name, [])
            token, _ = root.users.create_token(root.principal, name)
            as_user[name] = root.acting_as(root.users.authenticate(token))
        bob, mallory = as_user["bob"], as_user["mallory"]
        sid = _submit(bob, url, visible_to=["bob"])
        hits = bob.search("mdf.by_reference:true", kinds=["record"], limit=50)
        assert hits.total == len(bob.records(sid)) > 0
        assert bob.search("material.elements:Ni AND mdf.by_reference:true").total >= 1
        assert mallory.search("mdf.by_reference:true").total == 0
        with pytest.raises(NotFoundError):
            mallory.open(sid, WEIGHTS.name)
        with pytest.raises(NotFoundError):
            mallory.verify(sid)
        with bob.open(sid, WEIGHTS.name) as f:
            assert f.read() == WEIGHTS.read_bytes()
