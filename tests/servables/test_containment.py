"""The parts of servable containment (hub/servables/containment.py, contained.py, landlock.py), each
in a process of its own: Landlock rules, the user switch and its fall-back, the scrubbed
environment, the hidden hub folders, and a contained pool's workers bound to one servable.
The attacks on a live ``matterhub serve`` are in tests/reliability/test_servable_containment.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.servables.containment import Containment, describe, probe, worker_environment
from hub.servables.landlock import abi

needs_landlock = pytest.mark.skipif(abi() < 1, reason="containing servables needs Landlock (Linux 5.13+)")
ROOT = str(Path(__file__).resolve().parents[2])


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": ROOT, **env}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120
    )


@needs_landlock
def test_landlock_reads_and_writes_only_where_allowed(tmp_path: Path) -> None:
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    (allowed / "a.txt").write_text("a")
    (other / "b.txt").write_text("b")
    code = f"""
import json, os, sys
from hub.servables import landlock
prefixes = sorted({{sys.prefix, sys.base_prefix}})
rules = landlock.Rules(paths=(*((p, landlock.READ) for p in prefixes), ("/usr", landlock.READ),
                              ({str(allowed)!r}, landlock.READ | landlock.WRITE)), deny_tcp=True, scoped=True)
applied = landlock.restrict(rules)
out = {{"files": applied.files, "tcp": applied.tcp}}
for name, action in (("read_allowed", lambda: open({str(allowed / "a.txt")!r}).read()),
                     ("write_allowed", lambda: open({str(allowed / "new.txt")!r}, "w").write("x")),
                     ("read_other", lambda: open({str(other / "b.txt")!r}).read()),
                     ("write_other", lambda: open({str(other / "new.txt")!r}, "w").write("x")),
                     ("list_other", lambda: os.listdir({str(other)!r}))):
    try:
        action()
        out[name] = "ok"
    except OSError as exc:
        out[name] = type(exc).__name__
import socket
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1)
    out["tcp_connect"] = "ok"
except OSError as exc:
    out["tcp_connect"] = type(exc).__name__ + str(exc.errno)
print(json.dumps(out))
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["files"] and out["read_allowed"] == "ok" and out["write_allowed"] == "ok", out
    assert out["read_other"] == out["write_other"] == out["list_other"] == "PermissionError", out
    if out["tcp"]:  # ABI 4+: a refused connect is EACCES (13), not a refused connection
        assert out["tcp_connect"] == "PermissionError13", out
    assert not (other / "new.txt").exists()


def test_the_user_switch_and_its_fall_back(tmp_path: Path) -> None:
    """As root, a worker becomes the servable user when that user can read what it needs, and
    stays root (saying why) when it cannot."""
    if os.geteuid() != 0:
        pytest.skip("the switch of user happens only when the service runs as root")
    readable = Path("/etc/passwd")  # every user reads it
    secret = tmp_path / "secret-folder"  # below pytest's folder, which only root may enter
    secret.mkdir(mode=0o700)
    code = """
import json, os, sys
from pathlib import Path
from hub.servables.contained import _switch_user
report = {"notes": []}
work = Path(sys.argv[1]) / "work"
work.mkdir()
ok = _switch_user("nobody", [sys.argv[2]], work, report)
print(json.dumps({"switched": ok, "euid": os.geteuid(), "notes": report["notes"]}))
"""
    results = {}
    for name, check in (("readable", readable), ("unreadable", secret)):
        folder = tmp_path / name
        folder.mkdir(mode=0o755)
        done = subprocess.run(
            [sys.executable, "-c", code, str(folder), str(check)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": ROOT},
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        results[name] = {**json.loads(done.stdout.splitlines()[-1]), "owner": (folder / "work").stat().st_uid}
    assert results["readable"]["switched"] and results["readable"]["euid"] == 65534, results
    assert results["readable"]["owner"] == 65534  # its work folder is handed over
    assert not results["unreadable"]["switched"] and results["unreadable"]["euid"] == 0, results
    assert "nobody cannot read" in results["unreadable"]["notes"][0] and results["unreadable"]["owner"] == 0


def test_the_environment_keeps_no_setting_of_the_hub() -> None:
    env = worker_environment(
        {
            "PATH": "/usr/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C",
            "OMP_NUM_THREADS": "1",
            "MATTERHUB_TOKEN": "mh_secret",
            "MATTERHUB_HOME": "/srv/hub",
            "MATTERHUB_STORE_URL": "/srv/hub/blobs",
            "DATABASE_URL": "postgresql://hub:pw@db/hub",
            "AWS_SECRET_ACCESS_KEY": "x",
            "HOME": "/root",
        },
        {"KERAS_BACKEND": "jax"},
    )
    assert env == {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C",
        "OMP_NUM_THREADS": "1",
        "KERAS_BACKEND": "jax",
    }


def test_unknown_mechanisms_to_skip_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATTERHUB_CONTAINMENT_SKIP", "landlock,selinux")
    with pytest.raises(ValueError, match="selinux"):
        Containment()
    monkeypatch.setenv("MATTERHUB_CONTAINMENT_SKIP", " netns , pidns")
    assert Containment().skip == {"netns", "pidns"}


@needs_landlock
def test_a_probe_reports_what_took_effect(tmp_path: Path) -> None:
    hub_folder = tmp_path / "hub"
    hub_folder.mkdir()
    (hub_folder / "config.json").write_text("{}")
    report = probe(Containment().with_hidden([hub_folder]))
    assert report["files"] and report["refused"] is None and not report["dumpable"], report
    assert report["reached"] == [], report  # neither the hub folder nor /tmp
    line = describe(report)
    assert line.startswith("Landlock ABI") and "scrubbed environment" in line
    # a Landlock-less machine: refused unless the admin allows it
    skipped = probe(Containment(skip=frozenset({"landlock"})))
    assert skipped["refused"] and "allow-uncontained-servables" in skipped["refused"]
    assert describe(skipped).startswith("servables are NOT run")
    allowed = probe(Containment(require=False, skip=frozenset({"landlock"})))
    assert allowed["refused"] is None and "files NOT contained" in describe(allowed)


@needs_landlock
def test_a_hub_folder_inside_what_workers_read_is_refused() -> None:
    inside = os.path.join(sys.prefix, "a-hub-folder")  # as if the hub lived in the virtualenv
    report = probe(Containment().with_hidden([inside]))
    assert report["refused"] and "a-hub-folder" in report["refused"], report
