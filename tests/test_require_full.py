"""Under MATTERHUB_REQUIRE_FULL=1 (CI) a test that would skip fails, naming what is missing;
the few skips that state a fact of the machine still skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TESTS = """
import pytest

def test_needs_postgres():
    pytest.skip("PostgreSQL: no initdb found")

def test_machine_fact():
    pytest.skip("root can read a chmod 000 file")

@pytest.fixture
def chromium():
    pytest.skip("no chromium at /usr/bin/chromium")

def test_in_a_browser(chromium):
    pass
"""


def run_with(tmp_path: Path, require_full: str | None) -> str:
    (tmp_path / "test_probe.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if k != "MATTERHUB_REQUIRE_FULL"}
    env["PYTHONPATH"] = str(ROOT)  # the repository's conftest.py, loaded as a plugin below
    if require_full is not None:
        env["MATTERHUB_REQUIRE_FULL"] = require_full
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-rA",
        "-p",
        "conftest",
        "-p",
        "no:cacheprovider",
        "test_probe.py",
    ]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return done.stdout


def test_skips_fail_under_require_full(tmp_path: Path) -> None:
    out = run_with(tmp_path, "1")
    assert "1 failed, 1 skipped, 1 error" in out, out
    assert "PostgreSQL: no initdb found" in out and "no chromium at /usr/bin/chromium" in out
    assert "MATTERHUB_REQUIRE_FULL=1 (CI) forbids skipping" in out


def test_skips_stay_skips_otherwise(tmp_path: Path) -> None:
    assert "3 skipped" in run_with(tmp_path, None)
    assert "3 skipped" in run_with(tmp_path, "0")
