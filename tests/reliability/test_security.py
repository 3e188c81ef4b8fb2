"""Security review, tested: tokens at rest, path traversal (file endpoints and archives),
URL submissions to private addresses (at submission and at download time: DNS rebinding,
redirects), pickles loaded only in workers, Keras safe mode, the per-caller rate limit
and the upload size limit."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import pickle
import socket
import sqlite3
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from reliability_server import CIF, ServerProcess, record, wait_submission

from hub import Hub
from hub.connect.collect import collect
from hub.connect.urlguard import ADDRESS_GUARD, refused_address
from hub.exceptions import AccessDeniedError, SourceError
from hub.service import create_app
from hub.service.ratelimit import Limiter, RateLimitMiddleware
from hub.service.settings import ServiceSettings
from hub.service.testing import LiveServer

USERS = {"alice": ["lab", "servable-publishers"], "bob": []}


# -- a loopback web server (the private address URL submissions must not reach) ---------------


class LoopbackSite:
    """``http.server`` on a loopback address, serving ``files`` ({path: bytes}) and redirects."""

    def __init__(self, files: dict[str, bytes], host: str = "127.0.0.1") -> None:
        self.files = files
        self.redirects: dict[str, str] = {}
        self.requests: list[str] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

            def _answer(self, body: bool) -> None:
                site.requests.append(self.path)
                if self.path in site.redirects:
                    self.send_response(302)
                    self.send_header("Location", site.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = site.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- one service for the module ------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("security")
    server = ServerProcess(root / "hub", root / "server")
    try:
        server.start()
        tokens = server.add_users(USERS)
        src = root / "src"
        src.mkdir()
        (src / "Cu.cif").write_bytes(CIF)
        (src / "notes.txt").write_text("private notes\n")
        alice = Hub(server.url, token=tokens["alice"], progress=False)
        public = alice.submit(src, "Copper", ["Ward, Logan"], source_name="copper", visible_to=["public"])
        private = alice.submit(
            src, "Lab copper", ["Ward, Logan"], source_name="labcu", visible_to=["group:lab"]
        )
        assert public.status == private.status == "complete", (public.message, private.message)
        alice.close()
        yield {"server": server, "tokens": tokens, "public": public.source_id, "private": private.source_id}
    finally:
        server.stop()


# -- tokens at rest ---------------------------------------------------------------------------------


def test_tokens_are_kept_as_sha256_only(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    tokens = [*service["tokens"].values(), server.admin_token]
    with server.client(service["tokens"]["bob"]) as http:  # one more, made over the API
        made = http.post("/api/tokens", json={"label": "made by bob"})
        assert made.status_code == 201
        tokens.append(made.json()["token"])
        assert http.get("/api/whoami").json()["user"] == "bob"
    db = sqlite3.connect(f"file:{server.home / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT * FROM tokens").fetchall()
        digests = {r[0] for r in db.execute("SELECT token_sha256 FROM tokens")}
    finally:
        db.close()
    assert {hashlib.sha256(t.encode()).hexdigest() for t in tokens} <= digests
    stored = {str(v) for row in rows for v in row}
    assert not stored & set(tokens)
    # no file the hub writes (catalog, its WAL, index, blobs, config) nor the server's log holds a token
    files = [p for p in server.home.rglob("*") if p.is_file()] + [server.log]
    for path in files:
        data = path.read_bytes()
        for t in tokens:
            assert t.encode() not in data, f"{path} holds a token in clear"
    record("security: tokens at rest", cases=len(tokens) * len(files), leaks=0)


def test_bad_tokens_and_headers_are_refused(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    cases = [
        {"Authorization": "Bearer mh_not-a-token"},
        {"Authorization": "Basic YWxpY2U6cGFzcw=="},
        {"Authorization": f"Bearer {service['tokens']['alice']}x"},
        {"Authorization": f"Bearer {hashlib.sha256(service['tokens']['alice'].encode()).hexdigest()}"},
    ]
    for headers in cases:
        r = httpx.get(f"{server.url}/api/datasets", headers=headers)
        assert r.status_code == 401, (headers, r.status_code)
    anonymous = httpx.post(
        f"{server.url}/api/submissions", json={"source": "https://x", "title": "t", "authors": ["a"]}
    )
    assert anonymous.status_code == 401
    with server.client(service["tokens"]["bob"]) as http:
        made = http.post("/api/tokens", json={"label": "to revoke"}).json()
        assert http.delete(f"/api/tokens/{made['id']}").status_code == 204
    revoked = httpx.get(f"{server.url}/api/whoami", headers={"Authorization": f"Bearer {made['token']}"})
    assert revoked.status_code == 401
    record("security: bad tokens", cases=len(cases) + 2, leaks=0)


# -- path traversal -------------------------------------------------------------------------------


def _raw_get(port: int, target: str, token: str) -> tuple[int, bytes]:
    """A GET with the request target sent exactly as written (no client-side normalization)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_file_endpoints_serve_only_the_datasets_files(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    sid, private = service["public"], service["private"]
    secrets_ = [b"root:x:0:", b'"catalog"', b"private notes"]
    config = (server.home / "config.json").read_bytes()
    targets = [
        f"/api/datasets/{sid}/files/../../../config.json",
        f"/api/datasets/{sid}/files/..%2f..%2f..%2fconfig.json",
        f"/api/datasets/{sid}/files/%2e%2e/%2e%2e/%2e%2e/config.json",
        f"/api/datasets/{sid}/files/%252e%252e%252fconfig.json",
        f"/api/datasets/{sid}/files//etc/passwd",
        f"/api/datasets/{sid}/files/%2fetc%2fpasswd",
        f"/api/datasets/{sid}/files/..\\..\\config.json",
        f"/api/datasets/{sid}/files/%c0%ae%c0%ae/%c0%ae%c0%ae/config.json",
        f"/api/datasets/{sid}/files/Cu.cif%00.txt",
        f"/api/datasets/{sid}/files/./../{private}/notes.txt",
        f"/api/datasets/{sid}/../{private}/files/notes.txt",
        f"/api/datasets/..%2f{private}/files/notes.txt",
        f"/api/datasets/{private}/files/notes.txt",  # bob may not see it at all
        "/api/datasets/%2e%2e/files/config.json",
        "/api/../../../../etc/passwd",
        f"/api/datasets/{sid}/files/" + "../" * 40 + "etc/passwd",
    ]
    for target in targets:
        status, body = _raw_get(server.port, target, service["tokens"]["bob"])
        assert status in (400, 401, 403, 404, 422), (target, status, body[:200])
        for secret in [*secrets_, config[:60]]:
            assert secret not in body, (target, secret)
    status, body = _raw_get(server.port, f"/api/datasets/{sid}/files/Cu.cif", service["tokens"]["bob"])
    assert status == 200 and body == CIF  # the real file is served
    record("security: path traversal (files)", cases=len(targets), leaks=0)


def _zip(members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16) | 0x20
            zf.writestr(info, target)
    return buf.getvalue()


def _tar(members: list[tuple[str, bytes, bytes, str]]) -> bytes:
    """A tar of ``(name, data, type, link)`` members, written as given (no safety of its own)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data, kind, link in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tf.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


OK_CIF = ("ok.cif", CIF, tarfile.REGTYPE, "")


def test_archives_cannot_write_outside_or_explode(service: dict[str, Any], tmp_path: Path) -> None:
    server: ServerProcess = service["server"]
    evil = tmp_path / "evil-target.txt"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (64 * 1024**2))  # 64 MB in ~64 KB: 1000x, over the 200x limit
    archives = {
        "slip.zip": (_zip({"ok.cif": CIF, "../../../../../../" + str(evil).lstrip("/"): b"pwned"}), "outside"),
        "absolute.zip": (_zip({"ok.cif": CIF, str(evil): b"pwned"}), "outside"),
        "symlink.zip": (_zip({"ok.cif": CIF}, {"passwd": "/etc/passwd"}), "link"),
        "slip.tar": (_tar([OK_CIF, ("../" * 8 + str(evil).lstrip("/"), b"pwned", tarfile.REGTYPE, "")]), "outside"),
        "symlink.tar": (_tar([OK_CIF, ("passwd", b"", tarfile.SYMTYPE, "/etc/passwd")]), "link"),
        "hardlink.tar": (_tar([OK_CIF, ("passwd", b"", tarfile.LNKTYPE, "/etc/passwd")]), "link"),
        "device.tar": (_tar([OK_CIF, ("null", b"", tarfile.CHRTYPE, "")]), "not a regular file"),
        "bomb.zip": (bomb.getvalue(), "zip bomb"),
        "damaged.zip": (_zip({"ok.cif": CIF})[:-30], "damaged"),
    }  # fmt: skip
    with server.client(service["tokens"]["alice"]) as http:
        for name, (data, words) in archives.items():
            meta = {"title": f"Archive {name}", "authors": ["Ward, Logan"]}
            r = http.post(
                "/api/submissions/upload",
                files={"file": (name, data, "application/octet-stream")},
                data={"metadata": json.dumps(meta)},
            )
            assert r.status_code == 202, (name, r.text)
            sub = wait_submission(http, r.json()["id"])
            assert sub["status"] == "failed", (name, sub)
            assert words in sub["message"], (name, sub["message"])
    assert not evil.exists()
    staging = server.home / "staging"
    assert not staging.exists() or not any(staging.iterdir()), list(staging.iterdir())
    record("security: archives", cases=len(archives), leaks=0)


# -- URL submissions ----------------------------------------------------------------------------------

PRIVATE_URLS = [
    "http://127.0.0.1:{port}/Cu.cif",
    "http://localhost:{port}/Cu.cif",
    "http://[::1]:{port}/Cu.cif",
    "http://0.0.0.0:{port}/Cu.cif",
    "http://127.1:{port}/Cu.cif",
    "http://2130706433:{port}/Cu.cif",
    "http://0x7f000001:{port}/Cu.cif",
    "http://[::ffff:127.0.0.1]:{port}/Cu.cif",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/data.cif",
    "http://192.168.1.1/data.cif",
    "http://172.16.0.1/data.cif",
    "http://[fd00::1]/data.cif",
    "ftp://127.0.0.1/data.cif",
    "https://127.0.0.1:{port}/Cu.cif",
    "file:///etc/passwd",
    "/etc/passwd",
    "local:///etc/passwd",
    "C:/Windows/win.ini",
]


def test_urls_to_private_addresses_are_refused(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    with LoopbackSite({"/Cu.cif": CIF}) as site, server.client(service["tokens"]["alice"]) as http:
        before = len(http.get("/api/submissions").json())
        for url in PRIVATE_URLS:
            body = {"source": url.format(port=site.port), "title": "SSRF", "authors": ["Ward, Logan"]}
            r = http.post("/api/submissions", json=body)
            assert r.status_code in (400, 403), (url, r.status_code, r.text)
        assert len(http.get("/api/submissions").json()) == before
        assert site.requests == [], "the service reached the private address"
    record("security: private URLs refused", cases=len(PRIVATE_URLS), leaks=0)


def _live_service(home: Path, settings: ServiceSettings) -> tuple[Hub, Any, str]:
    """A hub served in this process (uvicorn in a thread) with one user, alice, and her token."""
    hub = Hub(home, progress=False)
    hub.users.ensure_user("alice", [])
    token, _ = hub.users.create_token(hub.principal, "alice")
    return hub, create_app(hub, settings), token


def test_private_urls_when_the_configuration_allows_them(tmp_path: Path) -> None:
    hub, app, token = _live_service(
        tmp_path / "hub", ServiceSettings(allow_private_urls=True, apis=("none",))
    )
    try:
        with LoopbackSite({"/Cu.cif": CIF}) as site, LiveServer(app) as live:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=live.url, headers=headers, timeout=60) as http:
                body = {"source": f"{site.url}/Cu.cif", "title": "Local copper", "authors": ["Ward, Logan"]}
                r = http.post("/api/submissions", json=body)
                assert r.status_code == 202, r.text
                sub = wait_submission(http, r.json()["id"])
            assert sub["status"] == "complete", sub
            assert any(p.endswith("/Cu.cif") for p in site.requests)
    finally:
        hub.close()


@pytest.fixture()
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names under ``.matterhub.test`` resolve to the next address of their list (the last one
    for good): a rebinding DNS server in one dictionary."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in answers:
            queue = answers[name]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (
                (address, int(port or 0)) if family == socket.AF_INET else (address, int(port or 0), 0, 0)
            )
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_dns_rebinding_is_refused_at_download_time(tmp_path: Path, fake_dns: dict[str, list[str]]) -> None:
    """The name is public when the submission is checked and loopback when it is fetched."""
    hub, app, token = _live_service(tmp_path / "hub", ServiceSettings(apis=("none",)))  # MatterHub's API only
    try:
        with LoopbackSite({"/Cu.cif": CIF}) as site, LiveServer(app) as live:
            fake_dns["rebind.matterhub.test"] = ["93.184.216.34", "127.0.0.1"]
            body = {
                "source": f"http://rebind.matterhub.test:{site.port}/Cu.cif",
                "title": "Rebinding",
                "authors": ["Ward, Logan"],
            }
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=live.url, headers=headers, timeout=60) as http:
                r = http.post("/api/submissions", json=body)
                assert r.status_code == 202, r.text  # the check at submission time saw a public address
                sub = wait_submission(http, r.json()["id"])
            assert sub["status"] == "failed", sub
            assert "loopback/private" in sub["message"], sub["message"]
            assert site.requests == [], "the download reached the loopback address"
    finally:
        hub.close()
    record("security: DNS rebinding", cases=1, leaks=0)


def test_redirects_to_private_addresses_are_refused(tmp_path: Path, fake_dns: dict[str, list[str]]) -> None:
    """A download that the guard allows at first is redirected to an address it refuses."""
    refused = {"127.0.0.2"}

    def guard(host: str, address: str) -> None:
        if address in refused:
            raise AccessDeniedError(f"{host} resolves to {address}, a loopback/private address")

    with (
        LoopbackSite({}, host="127.0.0.1") as front,
        LoopbackSite({"/Cu.cif": CIF}, host="127.0.0.2") as back,
    ):
        fake_dns["inside.matterhub.test"] = ["127.0.0.2"]
        front.redirects = {
            "/by-address.cif": f"{back.url}/Cu.cif",
            "/by-name.cif": f"http://inside.matterhub.test:{back.port}/Cu.cif",
        }
        token = ADDRESS_GUARD.set(guard)
        try:
            for path in front.redirects:
                with pytest.raises(SourceError, match="loopback/private"):
                    collect(f"{front.url}{path}", tmp_path / f"staging{len(front.requests)}")
            assert back.requests == [], "a redirect reached the refused address"
            ADDRESS_GUARD.set(None)
            ok = collect(f"{front.url}/by-address.cif", tmp_path / "unguarded")  # no guard: it is followed
            assert [f.read_bytes() for f in ok.files] == [CIF]
            assert back.requests
        finally:
            ADDRESS_GUARD.reset(token)
    record("security: redirects", cases=2, leaks=0)


def test_the_address_rule() -> None:
    for address in (
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "169.254.169.254",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "fd00::1",
        "224.0.0.1",
    ):
        assert refused_address(address), address
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert not refused_address(address), address


# -- published code never runs in the server ------------------------------------------------------


class _Detonate:
    def __reduce__(self) -> tuple[Any, ...]:
        code = (
            "import os; raise RuntimeError('unpickled in process %d (pid namespace %s)' "
            "% (os.getpid(), os.readlink('/proc/self/ns/pid')))"
        )
        return (exec, (code,))


def test_pickles_are_loaded_only_in_workers(service: dict[str, Any], tmp_path: Path) -> None:
    """A servable whose pickle runs code when loaded is published, listed, searched and read over
    the API without the server loading it; running it loads it in a worker process."""
    from sklearn.linear_model import LinearRegression

    from hub.servables import package

    server: ServerProcess = service["server"]
    token = service["tokens"]["alice"]
    remote = Hub(server.url, token=token, progress=False)
    model = LinearRegression().fit(np.arange(6.0).reshape(3, 2), np.arange(3.0))
    sv = remote.describe(model, name="detonator", title="A pickle that runs code")
    tar, files = package.build(sv, tmp_path)
    poisoned = tmp_path / "poisoned.tar"
    with tarfile.open(tar) as src, tarfile.open(poisoned, "w") as dst:
        swapped = 0
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.isfile() and member.name.endswith((".pkl", ".pickle", ".joblib")):
                data = pickle.dumps(_Detonate())
                member.size = len(data)
                swapped += 1
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    assert swapped == 1
    doc = sv.metadata.to_document()
    doc["dlhub"]["files"] = {**doc["dlhub"].get("files", {}), **files}
    with server.client(token) as http:
        with open(poisoned, "rb") as f:
            r = http.post(
                "/api/servables",
                data={"metadata": json.dumps(doc)},
                files={"artifact": ("artifact.tar", f, "application/x-tar")},
            )
        assert r.status_code == 201, r.text
        assert http.get("/api/servables/alice/detonator").status_code == 200
        assert http.get("/api/servables", params={"q": "detonator"}).json()["total"] == 1
        run = http.post(
            "/api/servables/alice/detonator/run", json={"inputs": [[1.0, 2.0]], "arrays": "lists"}
        )
    assert run.status_code >= 400
    message = run.json()["detail"]
    assert "unpickled in process" in message, message
    pid = int(message.split("unpickled in process ")[1].split()[0].strip("'\".,:;)"))
    namespace = message.split("(pid namespace ")[1].split(")")[0]
    server_namespace = os.readlink(f"/proc/{server.pid}/ns/pid")
    # a contained worker runs in a pid namespace of its own, where it is a small number
    where = [p for p in server.tree() if os.readlink(f"/proc/{p}/ns/pid") == namespace]
    if namespace == server_namespace:
        assert pid != server.pid, "the server process loaded the pickle"
        assert pid in server.tree(), "the pickle was loaded outside the server's worker processes"
    else:
        assert where, "the pickle was loaded outside the server's worker processes"
    remote.close()
    record("security: pickles only in workers", cases=1, leaks=0)


def test_keras_models_load_in_safe_mode(tmp_path: Path) -> None:
    """A Keras model with a Lambda layer (Python bytecode) is refused when a worker loads it."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    from hub.db.database import Database
    from hub.index.engine import SearchIndex
    from hub.servables.executors import LocalExecutor
    from hub.servables.parts import ServableParts
    from hub.store.blobs import BlobStore

    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Lambda(lambda x: x * 2.0)(inp))
    hub = Hub(tmp_path / "hub", user="alice", progress=False)
    catalog = Database(hub.config.catalog)
    executor = LocalExecutor(size=1)  # a pool of its own
    parts = ServableParts(
        catalog,
        BlobStore(hub.config.store),
        SearchIndex(hub.config.index),
        hub.principal,
        hub.home,
        executor=executor,
    )
    try:
        name = parts.registry.publish(parts.registry.describe(model, name="lambda_layer"))
        with pytest.raises(Exception, match="Lambda") as info:
            parts.run(name, np.ones((1, 2), dtype="float32"))
        assert "safe_mode" in str(info.value) or "arbitrary code" in str(info.value)
    finally:
        parts.close()
        executor.close()
        catalog.close()
        hub.close()
    record("security: keras safe mode", cases=1, leaks=0)


# -- rate and size limits ------------------------------------------------------------------------


def test_limiter_refills_and_stays_bounded() -> None:
    limiter = Limiter(rate=2.0, burst=3, max_keys=100)
    assert [limiter.take("a", 0.0) for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
    assert limiter.take("b", 0.0) == 0.0  # another caller has its own bucket
    assert limiter.take("a", 0.5) == 0.0  # one token back after half a second
    assert limiter.take("a", 0.5) == 0.5
    for i in range(1000):
        limiter.take(f"caller{i}", 1.0)
    assert len(limiter) == 100  # the least recently seen are forgotten


def test_rate_limit_per_token_and_address(tmp_path: Path) -> None:
    now = [0.0]
    hub = Hub(tmp_path / "hub", progress=False)
    tokens = {}
    for name in ("alice", "bob"):
        hub.users.ensure_user(name, [])
        tokens[name], _ = hub.users.create_token(hub.principal, name)
    app = create_app(hub, ServiceSettings(apis=("none",)), start_worker=False)
    app.add_middleware(
        RateLimitMiddleware,
        rate=1.0,
        burst=3,
        upload_rate_per_minute=1.0,
        upload_burst=1,
        clock=lambda: now[0],
    )
    try:
        with LiveServer(app) as live:

            def get(token: str | None) -> httpx.Response:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                return httpx.get(f"{live.url}/api/info", headers=headers)

            assert [get(tokens["alice"]).status_code for _ in range(5)] == [200, 200, 200, 429, 429]
            refused = get(tokens["alice"])
            assert refused.headers["retry-after"] == "1" and refused.json()["status"] == 429
            assert "requests a second" in refused.json()["detail"]
            assert get(tokens["bob"]).status_code == 200  # bob has his own bucket
            assert [get(None).status_code for _ in range(4)] == [200, 200, 200, 429]  # by address
            now[0] += 1.0
            assert get(tokens["alice"]).status_code == 200  # refilled
            upload = {"file": ("x.cif", CIF, "chemical/x-cif")}
            meta = {"metadata": json.dumps({"title": "t", "authors": ["Doe, A"]})}
            headers = {"Authorization": f"Bearer {tokens['bob']}"}
            first = httpx.post(f"{live.url}/api/submissions/upload", files=upload, data=meta, headers=headers)
            second = httpx.post(
                f"{live.url}/api/submissions/upload", files=upload, data=meta, headers=headers
            )
            assert first.status_code == 202 and second.status_code == 429, (first.text, second.text)
            assert "uploads a minute" in second.json()["detail"]
    finally:
        hub.close()
    record("security: rate limit", cases=16, leaks=0)


def test_upload_size_limit(tmp_path: Path) -> None:
    settings = ServiceSettings(max_upload_bytes=1024 * 1024, apis=("none",))
    hub, app, token = _live_service(tmp_path / "hub", settings)
    big = b"# " + b"x" * (1536 * 1024) + b"\n"
    try:
        with LiveServer(app) as live:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=live.url, headers=headers, timeout=60) as http:
                r = http.post(
                    "/api/submissions/upload",
                    files={"file": ("big.txt", big, "text/plain")},
                    data={"metadata": json.dumps({"title": "Too big", "authors": ["Ward, Logan"]})},
                )
                assert r.status_code == 400 and "larger than this service accepts" in r.json()["detail"], (
                    r.text
                )
                assert http.get("/api/submissions").json() == []
                doc = {"dlhub": {"name": "big"}, "datacite": {}}
                r = http.post(
                    "/api/servables",
                    data={"metadata": json.dumps(doc)},
                    files={"artifact": ("artifact.tar", big, "application/x-tar")},
                )
                assert r.status_code == 400, r.text
        uploads = hub.home / "uploads"
        assert not uploads.exists() or not any(uploads.iterdir())
        leftovers = [p for p in hub.home.glob("upload-*")]
        assert not leftovers, leftovers
    finally:
        hub.close()
    record("security: upload size", cases=2, leaks=0)
