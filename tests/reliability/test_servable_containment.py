"""Published code cannot touch the hub: the attacks of an outside security test (issue 26), on a
live ``matterhub serve`` with two users.

Bob (a servable publisher) publishes servables that look for a marker in every file they can see
(the hub folder first: they know where it is, as an attacker learns it from ``/proc``), open the
SQLite catalog, read ``config.json`` and the blobs, rewrite the users table to make everyone an
admin, read the service's environment, connect to the service's port and to a second server on
loopback, and read another servable's artifact.  Alice holds a private dataset whose file and
title carry the marker.  Every attempt must fail; on a hub without containment each succeeds.

Also: publishing is a right admins grant (the ``servable-publishers`` group); the network is given
only to servables that declare it, where the admin allows it; and a service whose machine cannot
contain servables (no Landlock, here pretended with ``MATTERHUB_CONTAINMENT_SKIP``) refuses to run
them unless started with ``--allow-uncontained-servables``.
"""

from __future__ import annotations

import glob
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_server import ServerProcess, record

from hub import Hub
from hub.exceptions import AccessDeniedError, ServableRefusedError
from hub.servables.landlock import abi as landlock_abi

pytestmark = pytest.mark.skipif(
    landlock_abi() < 1, reason="containing servables needs Landlock (Linux 5.13+)"
)

# -- what bob publishes (module-level functions: packaged from their source) ---------------------


def spy(x: dict[str, Any]) -> dict[str, Any]:
    """Everything an attacker tries from inside a servable; returns what it reached."""
    import os
    import socket
    import sqlite3
    import time

    marker = x["marker"].encode()
    home = x["home"]
    reached: dict[str, Any] = {"marker_in": [], "files_read": 0}

    def look(path: str) -> None:
        try:
            if os.path.getsize(path) > 8 * 2**20:
                return
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return
        reached["files_read"] += 1
        if marker in data:
            reached["marker_in"].append(path)

    # the hub folder first (its path shows in the parent's command line), then everything else
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            reached["parent_cmdline"] = f.read().decode(errors="replace")
    except OSError as exc:
        reached["parent_cmdline"] = type(exc).__name__
    # a control: a copy of the marker in its own run folder, which the search must find
    with open("control.txt", "w") as f:
        f.write(x["marker"])
    reached["control"] = os.path.abspath("control.txt")
    deadline = time.monotonic() + 20
    skip = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin"}
    for top in (home, "/", "/tmp", "/etc", "/root", "/home", "/var", os.getcwd()):
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip]
            for name in files:
                look(os.path.join(folder, name))
            if time.monotonic() > deadline:
                break
    try:
        with open(os.path.join(home, "config.json")) as f:
            reached["config"] = f.read()
    except OSError as exc:
        reached["config"] = type(exc).__name__
    try:
        db = sqlite3.connect(os.path.join(home, "catalog.sqlite"), timeout=2)
        reached["titles"] = [r[0] for r in db.execute("SELECT title FROM datasets")]
    except sqlite3.Error as exc:
        reached["titles"] = type(exc).__name__ + ": " + str(exc)
    try:
        db = sqlite3.connect(os.path.join(home, "catalog.sqlite"), timeout=2)
        db.execute("""UPDATE users SET groups = '["admin"]'""")
        db.commit()
        reached["users_written"] = True
    except sqlite3.Error as exc:
        reached["users_written"] = type(exc).__name__ + ": " + str(exc)
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as f:
            reached["parent_environ"] = f.read().decode(errors="replace")
    except OSError as exc:
        reached["parent_environ"] = type(exc).__name__
    for key in ("service_port", "other_port"):
        try:
            socket.create_connection(("127.0.0.1", x[key]), timeout=2).close()
            reached[key] = "connected"
        except OSError as exc:
            reached[key] = type(exc).__name__
    for path in x.get("artifacts", []):
        try:
            reached.setdefault("artifacts", []).append(sorted(os.listdir(path)))
        except OSError as exc:
            reached.setdefault("artifacts", []).append(type(exc).__name__)
    reached["environment"] = sorted(os.environ)
    seen = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    seen.append(f.read().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
    reached["processes"] = seen
    return reached


def phone_home(x: dict[str, Any]) -> str:
    """Connect to a loopback server: allowed only to a servable that declares the network."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", x["port"]), timeout=2).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__


def secret_model(x: float) -> float:
    """Alice's private servable: bob must not read its artifact."""
    return x * 42.0


# -- the second server on loopback -----------------------------------------------------------------


class Listener:
    """A TCP server on a loopback port that counts the connections it accepted."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


def _contained_workers(server: ServerProcess) -> list[int]:
    """The contained workers the server started (its direct children; each has a child of its
    own, the worker proper, in a pid namespace)."""
    out = []
    for pid in server.tree():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        if b"hub.servables.contained" in cmdline and ppid == server.pid:
            out.append(pid)
    return out


# -- the attacks ----------------------------------------------------------------------------------


def test_servable_code_cannot_touch_the_hub(server_factory: Any, tmp_path: Path, listener: Listener) -> None:
    server: ServerProcess = server_factory()
    tokens = server.add_users({"alice": ["lab", "servable-publishers"], "bob": ["servable-publishers"]})
    marker = f"MARKER-{uuid.uuid4().hex}"
    src = tmp_path / "secret"
    src.mkdir()
    (src / "notes.txt").write_text(f"alice's private notes {marker}\n")
    alice = Hub(server.url, token=tokens["alice"], progress=False)
    alice.submit(
        src, f"Private {marker}", ["Ward, Logan"], source_name="alice_secret", visible_to=["user:alice"]
    )
    secret = alice.publish_servable(
        alice.describe(secret_model, name="secret_model", visible_to=["user:alice"])
    )
    assert alice.run(secret, 1.0) == 42.0  # its artifact is now unpacked for a worker
    alice.close()
    artifacts = sorted(glob.glob("/tmp/matterhub-runs-*/artifacts/*"))
    assert artifacts, "no unpacked artifact found: the check of other servables' artifacts proves nothing"

    bob = Hub(server.url, token=tokens["bob"], progress=False)
    name = bob.publish_servable(bob.describe(spy, name="spy", timeout_s=120))
    got = bob.run(
        name,
        {
            "marker": marker,
            "home": str(server.home),
            "service_port": server.port,
            "other_port": listener.port,
            "artifacts": artifacts,
        },
    )
    bob.close()

    assert got["control"] in got["marker_in"], "the spy did not find its own control copy: it proves nothing"
    leaked = [p for p in got["marker_in"] if p != got["control"]]
    assert leaked == [], f"servable code read alice's private data: {leaked}"
    assert got["config"] == "PermissionError", got["config"]
    assert isinstance(got["titles"], str) and "unable to open" in got["titles"], got["titles"]
    assert got["users_written"] is not True, "servable code rewrote the users table"
    # not there (a pid namespace) or refused (Landlock's ptrace rule)
    assert got["parent_environ"] in ("FileNotFoundError", "PermissionError"), (
        "servable code read the service's environment"
    )
    assert got["service_port"] != "connected" and got["other_port"] != "connected", got
    assert listener.accepted == 0
    assert all(a == "PermissionError" for a in got["artifacts"]), got["artifacts"]
    # the service's process (and its command line, naming the hub folder) is out of sight
    assert got["processes"] and not any("serve" in c or str(server.home) in c for c in got["processes"]), got
    assert str(server.home) not in got["parent_cmdline"], got["parent_cmdline"]
    secrets = [
        k for k in got["environment"] if "TOKEN" in k or "URL" in k or "SECRET" in k or "PASSWORD" in k
    ]
    assert not secrets and "MATTERHUB_HOME" not in got["environment"], got["environment"]
    with server.client(tokens["bob"]) as http:
        me = http.get("/api/whoami").json()
        assert not me.get("admin"), me
        assert http.get("/api/search", params={"q": marker}).json()["total"] == 0
    # what the workers' containment reported: Landlock on, not dumpable, no network
    with open(server.log) as f:
        log = f.read()
    assert "servable containment: Landlock ABI" in log and "not dumpable" in log, log[-2000:]
    record("security: servable containment", cases=1, leaks=0, files_searched=got["files_read"])


def test_publishing_is_a_right_admins_grant(server_factory: Any) -> None:
    server: ServerProcess = server_factory()
    tokens = server.add_users({"carol": []})
    carol = Hub(server.url, token=tokens["carol"], progress=False)
    with pytest.raises(AccessDeniedError, match="may not publish servables on this hub"):
        carol.publish_servable(carol.describe(secret_model, name="model"))
    with server.client(server.admin_token) as http:
        http.put("/api/users/carol/groups", json={"groups": ["servable-publishers"]}).raise_for_status()
    name = carol.publish_servable(carol.describe(secret_model, name="model"))
    assert carol.run(name, 2.0) == 84.0
    carol.close()
    # admins publish without the group
    admin = Hub(server.url, token=server.admin_token, progress=False)
    assert admin.run(admin.publish_servable(admin.describe(secret_model, name="admin_model")), 1.0) == 42.0
    admin.close()


def test_network_only_where_declared_and_allowed(server_factory: Any, listener: Listener) -> None:
    results = {}
    for allow in (False, True):
        server: ServerProcess = server_factory(args=("--allow-servable-network",) if allow else ())
        tokens = server.add_users({"dan": ["servable-publishers"]})
        dan = Hub(server.url, token=tokens["dan"], progress=False)
        declared = dan.publish_servable(dan.describe(phone_home, name="declared", network=True))
        undeclared = dan.publish_servable(dan.describe(phone_home, name="undeclared"))
        results[allow] = (
            dan.run(declared, {"port": listener.port}),
            dan.run(undeclared, {"port": listener.port}),
        )
        dan.close()
        server.stop()
    assert results[False][0] != "connected" and results[False][1] != "connected", results
    assert results[True] == ("connected", results[True][1]) and results[True][1] != "connected", results
    assert listener.accepted == 1


def test_uncontained_servables_are_refused_unless_allowed(server_factory: Any) -> None:
    pretend = {"MATTERHUB_CONTAINMENT_SKIP": "landlock"}  # as a kernel without Landlock
    for allow in (False, True):
        server: ServerProcess = server_factory(
            env=pretend, args=("--allow-uncontained-servables",) if allow else ()
        )
        tokens = server.add_users({"erin": ["servable-publishers"]})
        erin = Hub(server.url, token=tokens["erin"], progress=False)
        name = erin.publish_servable(erin.describe(secret_model, name="model"))
        if allow:
            assert erin.run(name, 1.0) == 42.0
        else:
            with pytest.raises(ServableRefusedError, match="allow-uncontained-servables"):
                erin.run(name, 1.0)
            with server.client(tokens["erin"]) as http:
                r = http.post(f"/api/servables/{name}/run", json={"inputs": 1.0})
                assert r.status_code == 503 and "cannot contain servable code" in r.json()["detail"], r.text
            assert "servables are NOT run" in server.log.read_text()
        erin.close()
        server.stop()


def test_workers_are_bound_to_one_servable(server_factory: Any) -> None:
    """Each contained worker serves one servable version: a second servable gets its own worker."""
    server: ServerProcess = server_factory()
    tokens = server.add_users({"fay": ["servable-publishers"]})
    fay = Hub(server.url, token=tokens["fay"], progress=False)
    a = fay.publish_servable(fay.describe(secret_model, name="a"))
    b = fay.publish_servable(fay.describe(phone_home, name="b"))
    fay.run(a, 1.0)
    first = set(_contained_workers(server))
    fay.run(b, {"port": 1})
    second = set(_contained_workers(server))
    assert len(first) == 1 and len(second) == 2 and first < second, (first, second)
    # the pool has two workers (MATTERHUB_WORKERS=2): a third servable replaces the least recently used
    c = fay.publish_servable(fay.describe(secret_model, name="c"))
    assert fay.run(c, 1.0) == 42.0
    third = set(_contained_workers(server))
    assert len(third) == 2 and not (first & third) and (second - first) <= third, (first, second, third)
    fay.close()
