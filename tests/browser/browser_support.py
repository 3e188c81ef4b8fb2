"""Settings of the real-browser tests, shared by their conftest and test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
#: This machine has no internet: no GPU, no network services, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: How long a dashboard may take to start a kernel and run (a loaded 2-core machine).
LOAD_MS = 90_000
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (make system-deps)"
)
