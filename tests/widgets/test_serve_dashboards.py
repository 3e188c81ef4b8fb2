"""The dashboards and the module that serves them (the browser tests run them for real)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from hub.widgets.connection import open_hub, page_parameters
from hub.widgets.serve import DASHBOARDS, NAMES, DashboardServer, free_port, voila_command


def test_the_three_dashboards_are_valid_notebooks_using_the_public_api() -> None:
    for name in NAMES:
        nb = nbformat.read(DASHBOARDS / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "open_hub()" in code and "Panel(" in code
        assert not re.search(r"hub\._\w", code), "dashboards use only the public Hub API"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored clean


def test_voila_command() -> None:
    cmd = voila_command(DASHBOARDS, 8123)
    assert cmd[-6:] == [
        str(DASHBOARDS),
        "--port",
        "8123",
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
    ]
    assert "voila" in Path(cmd[0]).name or cmd[1:3] == ["-m", "voila"]


def test_server_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATTERHUB_URL", "http://elsewhere")
    local = DashboardServer(tmp_path / "hub", port=9, downloads=tmp_path / "dl").environment()
    assert local["MATTERHUB_HOME"] == str((tmp_path / "hub").absolute()) and "MATTERHUB_URL" not in local
    assert local["MATTERHUB_DOWNLOADS"] == str(tmp_path / "dl")
    remote = DashboardServer("http://127.0.0.1:8750", port=9, token="t0k").environment()
    assert remote["MATTERHUB_URL"] == "http://127.0.0.1:8750" and remote["MATTERHUB_TOKEN"] == "t0k"
    assert "MATTERHUB_HOME" not in remote
    srv = DashboardServer(tmp_path, port=8124)
    assert srv.url("publish") == "http://127.0.0.1:8124/voila/render/publish.ipynb"
    assert srv.url("search", "q=a") == "http://127.0.0.1:8124/voila/render/search.ipynb?q=a"
    with pytest.raises(FileNotFoundError, match="no dashboards"):
        DashboardServer(tmp_path, dashboards=tmp_path)
    assert 0 < free_port() < 65536


def test_open_hub_from_the_environment(tmp_path: Path) -> None:
    hub = open_hub(
        {"MATTERHUB_HOME": str(tmp_path / "h"), "MATTERHUB_USER": "bob", "MATTERHUB_GROUPS": "lab, x"}
    )
    try:
        assert hub.home == (tmp_path / "h") and hub.principal.user == "bob"
        assert hub.principal.groups == frozenset({"lab", "x"}) and hub.progress is False
    finally:
        hub.close()


def test_page_parameters() -> None:
    env = {"QUERY_STRING": "q=material.elements%3ACo+AND+dft.converged%3Atrue&x=1&x=2"}
    assert page_parameters(env) == {"q": "material.elements:Co AND dft.converged:true", "x": "2"}
    assert page_parameters({}) == {}


def test_voila_dies_with_its_parent(tmp_path: Path) -> None:
    """A dashboard server whose owner is killed outright (SIGKILL: no cleanup) stops too."""
    import os
    import signal
    import time

    script = (
        "import sys, time\n"
        "from hub.widgets.serve import DashboardServer\n"
        f"s = DashboardServer({str(tmp_path / 'hub')!r}).start()\n"
        "print(s.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        voila = int(owner.stdout.readline())
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.kill(voila, 0)
            except ProcessLookupError:
                break
            try:  # reap it if it became our child's orphan under us (it is not ours: just poll)
                os.waitpid(voila, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.2)
        else:
            os.kill(voila, signal.SIGKILL)
            raise AssertionError("voila outlived the process that started it")
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


def test_the_entry_point_answers_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hub.widgets.serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "--hub" in out.stdout and "--port" in out.stdout


def test_the_entry_point_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    import signal
    import socket
    import urllib.request

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.widgets.serve", "--hub", str(tmp_path / "hub"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:  # the URLs are printed once Voila answers
            lines.append(line)
            if "servables" in line:
                break
        assert f"http://127.0.0.1:{port}/voila/render/search.ipynb" in "".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
            assert r.status == 200 and "Voilà".encode() in r.read()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        with socket.socket() as s:  # Voila went with it
            assert s.connect_ex(("127.0.0.1", port)) != 0
    finally:
        if proc.poll() is None:  # a failed assertion: still stop Voila through the entry point
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
