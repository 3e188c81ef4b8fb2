"""Fixtures of the real-browser tests: a hub built from ../shared/data with a published
servable, a Voila server over the dashboards on a free loopback port, and Debian's chromium
driven by Playwright.  Every server and browser started here is stopped at the end.

The tests skip (saying why) without /usr/bin/chromium or the playwright package.
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, LOAD_MS
from hub.widgets.serve import DashboardServer

from hub import Hub


def lattice_image(a: float, b: float, size: int = 48) -> np.ndarray:
    """A simulated image of a rectangular 2-D lattice (spacings a and b in pixels).

    Parameters
    ----------
    a
        Lattice spacing along x, in pixels.
    b
        Lattice spacing along y, in pixels.
    size
        Width and height of the image, in pixels.
    """
    y, x = np.mgrid[0:size, 0:size]
    return np.cos(np.pi * x / a) ** 2 * np.cos(np.pi * y / b) ** 2


@pytest.fixture(scope="session")
def dashboard_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub with MaterialsIO's test files, ASE's COD minerals and one image servable."""
    home = tmp_path_factory.mktemp("dashboard-hub")
    with Hub(home, progress=False) as hub:
        for path, name, title in (
            (shared_data / "materialsio", "materialsio", "MaterialsIO test files"),
            (shared_data / "ase" / "minerals", "minerals", "COD minerals (ASE test data)"),
        ):
            assert hub.submit(path, title=title, authors=["Ward, Logan"], source_name=name).ok
        hub.publish_servable(
            hub.describe(lattice_image, title="Lattice image", authors=["Doe, Jane"], domains=["imaging"])
        )
    return home


@pytest.fixture(scope="session")
def dashboards(dashboard_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    """Voila over notebooks/dashboards on a free loopback port (its log: voila.log beside the hub)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    logs = tmp_path_factory.mktemp("voila")
    server = DashboardServer(
        dashboard_home, log=logs / "voila.log", downloads=logs / "downloads", tracebacks=True
    )
    server.start(timeout=120)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module: only one sync Playwright may run in a thread at a time, and other
    browser suites (tests/jupyterlab) start their own."""
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(headless=True, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    pg = context.new_page()
    pg.set_default_timeout(LOAD_MS)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture()
def screenshot() -> Any:
    """``screenshot(page, "name")`` saves tests/artifacts/name.png (the whole page)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(pg: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take
