"""Publishing by reference through a live hub service (uvicorn on loopback).

The source is a real HTTP server on loopback (``range_server``) serving real files, so the
service must be told it may read private addresses (``--allow-private-urls``); without it,
both the submission and every read of a referenced file are refused.  Over REST a vanished
source is a 404 and a source whose size changed a 409 (never a 5xx); a same-size change is
caught by the service's sha256 check, which ends the stream before its last block (the
response had started: the client's read fails rather than returning other bytes).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from range_server import serve

from hub import Hub
from hub.exceptions import AccessDeniedError, IntegrityError, NotFoundError, SourceChangedError
from hub.service import create_app
from hub.service.settings import ServiceSettings
from hub.service.testing import LiveServer

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
VASP = DATA / "materialsio" / "vasp" / "AlNi_static_LDA"
WEIGHTS = DATA / "cdi_nn" / "phase_weights.hdf5"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    for p in (VASP, WEIGHTS):
        if not p.exists():
            pytest.skip(f"{p} (../shared/data) is not here")
    root = tmp_path / "site" / "run"
    shutil.copytree(VASP, root)
    shutil.copy(WEIGHTS, root / WEIGHTS.name)
    return root


def _service(home: Path, allow: bool) -> tuple[Hub, LiveServer, str]:
    hub = Hub(home, progress=False)
    hub.users.ensure_user("alice", [])
    token, _ = hub.users.create_token(hub.principal, "alice")
    app = create_app(hub, ServiceSettings(allow_private_urls=allow, apis=("none",)))
    return hub, LiveServer(app).start(), token


@pytest.fixture()
def allowed(tmp_path: Path) -> Iterator[tuple[Hub, str, str]]:
    hub, live, token = _service(tmp_path / "hub", allow=True)
    try:
        yield hub, live.url, token
    finally:
        live.stop()
        hub.close()


def _wait(remote: Hub, sub_id: str) -> str:
    deadline = time.monotonic() + 120
    while (sub := remote.submission(sub_id)).status in ("queued", "running"):
        assert time.monotonic() < deadline, sub
        time.sleep(0.1)
    assert sub.status == "complete", (sub.message, sub.errors)
    assert sub.source_id is not None
    return sub.source_id


def test_publish_and_read_by_reference_through_the_service(
    folder: Path, allowed: tuple[Hub, str, str]
) -> None:
    hub, url, token = allowed
    with serve(folder.parent) as (site, counter), Hub(url, token=token, progress=False) as remote:
        sub = remote.submit(
            f"{site}/run/", title="Remote reference", authors=["Ward, Logan"], copy=False, wait=False
        )
        sid = _wait(remote, sub.id)
        assert remote.dataset(sid).metadata["mdf"]["by_reference"] is True
        stored = {p.name for p in Path(hub.config.store).rglob("*") if p.is_file()}
        assert not {f["sha256"] for f in remote.files(sid)} & stored  # no blob for any file
        outcar = (folder / "OUTCAR").read_bytes()
        with remote.open(sid, "OUTCAR") as f:
            assert f.read() == outcar
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
            r = http.get(f"/api/datasets/{sid}/files/OUTCAR", headers={"Range": "bytes=100-199"})
            assert r.status_code == 206 and r.content == outcar[100:200]
            assert r.headers["etag"] == f'"{hashlib.sha256(outcar).hexdigest()}"'

            (folder / "POSCAR").write_bytes((folder / "POSCAR").read_bytes() + b"\n")
            r = http.get(f"/api/datasets/{sid}/files/POSCAR")
            assert r.status_code == 409 and "POSCAR" in r.text  # a changed size: refused before any byte
            (folder / WEIGHTS.name).unlink()
            r = http.get(f"/api/datasets/{sid}/files/{WEIGHTS.name}")
            assert r.status_code == 404 and WEIGHTS.name in r.text
            assert http.get(f"/api/datasets/{sid}/verify").json()["bad"] == sorted(["POSCAR", WEIGHTS.name])
        with pytest.raises(SourceChangedError, match="POSCAR"):
            remote.open(sid, "POSCAR")
        with pytest.raises(NotFoundError, match=WEIGHTS.name):
            remote.open(sid, WEIGHTS.name)
        data = bytearray((folder / "OUTCAR").read_bytes())
        data[5000] ^= 1  # same size, other bytes: the service's sha256 check stops the stream
        (folder / "OUTCAR").write_bytes(bytes(data))  # before its last block, so no read completes
        with remote.open(sid, "OUTCAR") as f, pytest.raises((IntegrityError, httpx.TransportError)):
            f.read()
        assert counter.requests > 0


def test_private_sources_are_refused_for_submissions_and_reads(folder: Path, tmp_path: Path) -> None:
    hub, live, token = _service(tmp_path / "hub", allow=False)
    try:
        with serve(folder.parent) as (site, counter):
            # the embedded hub, acting as its local owner, may read its own machine
            own = hub.submit(f"{site}/run/", title="Own reference", authors=["Ward, Logan"], copy=False)
            assert own.status == "complete", own.message
            with Hub(live.url, token=token, progress=False) as remote:
                with pytest.raises(AccessDeniedError):
                    remote.submit(f"{site}/run/", title="SSRF", authors=["Ward, Logan"], copy=False)
                served = counter.bytes
                with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}) as http:
                    r = http.get(f"/api/datasets/{own.source_id}/files/OUTCAR")
                assert r.status_code == 403, r.text
                assert counter.bytes == served  # the service never reached the private address
    finally:
        live.stop()
        hub.close()
