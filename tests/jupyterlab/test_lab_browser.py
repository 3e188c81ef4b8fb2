"""The MatterHub panel in a real JupyterLab, driven through Debian's chromium by Playwright:
open the panel, search, tick a facet, create a notebook, insert the code that loads a dataset
through its Intake catalog, run it in the venv's kernel and see the DataFrame.

Skips (saying why) without /usr/bin/chromium, the playwright package or a built panel.
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hub.widgets.jupyterlab import LABEXTENSION_NAME, LABEXTENSIONS_DIR
from hub.widgets.jupyterlab import build as lab_build
from hub.widgets.jupyterlab.demo import LabServer

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
#: How long JupyterLab may take to load, or a kernel to start and run the cell (a loaded 2-core machine).
LOAD_MS = 90_000
KINDS = ["dataset", "record"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (make system-deps)"),
]


@pytest.fixture(scope="module")
def panel_build() -> Path:
    """The checkout's built panel (built now when missing or stale, if npm is here)."""
    try:
        return lab_build.build()
    except lab_build.LabextensionBuildError as exc:
        pytest.skip(f"the JupyterLab panel is not built and cannot be built here: {exc}")


@pytest.fixture(scope="module")
def lab(
    panel_build: Path,
    lab_hub: Any,
    jupyter_env: Any,
    lab_servers: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> LabServer:
    """``jupyter lab`` as the hub's owner, with an empty folder of notebooks."""
    assert panel_build == LABEXTENSIONS_DIR / LABEXTENSION_NAME
    root = tmp_path_factory.mktemp("lab-browser")
    server = lab_servers(
        root / "notebooks", env=jupyter_env(MATTERHUB_HOME=str(lab_hub.home)), log=root / "lab.log"
    )
    server.wait_ready(120)
    return server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(headless=True, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(LOAD_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
    assert not [e for e in errors if "matterhub" in e.lower()], errors


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def wait_search(page: Any, n: int) -> int:
    """Wait until the panel has shown its n-th search; returns the total it shows."""
    page.wait_for_selector(f".mh-lab-panel[data-searches='{n}']")
    return int(page.locator(".mh-lab-panel .mh-lab-total").get_attribute("data-total"))


def test_search_insert_code_and_see_the_dataframe(page: Any, lab: LabServer, lab_hub: Any) -> None:
    with lab_hub.open() as hub:
        everything = hub.search("*", kinds=KINDS).total
        oxides = hub.search("material.elements:O", facets=["material.elements"], kinds=KINDS)
        formulas = sorted(r["material"]["composition"] for r in hub.dataset(lab_hub.public).records())
    o_counts = {b["value"]: b["count"] for b in oxides.facets["material.elements"]["buckets"]}

    page.goto(lab.url("lab"))
    tab = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='matterhub-panel']")
    tab.wait_for(state="visible")
    if page.locator("#matterhub-panel").is_hidden():
        tab.click()
    panel = page.locator("#matterhub-panel")
    panel.wait_for(state="visible")

    # the first search (everything) shows once JupyterLab has restored its layout
    assert wait_search(page, 1) == everything
    assert "embedded" in panel.locator(".mh-lab-info").inner_text()

    panel.locator(".mh-lab-query").fill("material.elements:O")
    panel.locator(".mh-lab-query").press("Enter")
    assert wait_search(page, 2) == oxides.total
    assert panel.locator(".mh-lab-hit").count() == len(oxides.hits)
    bucket = panel.locator(".mh-lab-facet[data-field='material.elements'] .mh-lab-bucket[data-value='Al']")
    assert int(bucket.locator(".mh-lab-bucket-count").inner_text()) == o_counts["Al"]
    screenshot(page, "lab_panel_search")

    # tick a facet: drill down to the records with Al (and O)
    bucket.locator("input").check()
    assert wait_search(page, 3) == o_counts["Al"]

    # a new notebook, from the launcher (the venv's python3 kernel)
    page.locator(".jp-LauncherCard[data-category='Notebook']").first.click()
    notebook = page.locator(".jp-NotebookPanel:visible")
    notebook.wait_for(state="visible")
    page.wait_for_selector(".jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator[data-status='idle']")

    # back to everything; open the public dataset and insert its code
    panel.locator(".mh-lab-query").fill(f"mdf.source_id:{lab_hub.public}")
    panel.locator(".mh-lab-query").press("Enter")
    wait_search(page, 4)
    panel.locator(f".mh-lab-hit[data-kind='dataset'][data-id='{lab_hub.public}']").click()
    details = panel.locator(f".mh-lab-details-body[data-id='{lab_hub.public}']")
    details.wait_for(state="visible")
    assert panel.locator(".mh-lab-entry").input_value() == "structures"
    details.locator(".mh-lab-insert").click()
    page.wait_for_selector(".mh-lab-panel[data-inserted='1']")

    cell = notebook.locator(".jp-Cell").first
    source = cell.locator(".cm-content").inner_text()
    assert f'cat = hub.catalog()["{lab_hub.public}"].read()' in source
    assert 'df = cat["structures"].read()' in source

    # run it: the DataFrame's HTML table appears below the cell
    cell.click()
    notebook.locator(".jp-Toolbar [data-command='notebook:run-cell-and-select-next']").click()
    table = cell.locator(".jp-OutputArea-output table.dataframe")
    table.wait_for(state="visible", timeout=LOAD_MS)
    assert table.locator("tbody tr").count() == len(formulas)
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    assert "formula" in headers
    column = headers.index("formula")
    shown = [
        row.locator("td, th").nth(column).inner_text().strip() for row in table.locator("tbody tr").all()
    ]
    assert sorted(shown) == formulas
    screenshot(page, "lab_panel_dataframe")

    # the servables tab: insert a call of the public servable below, run it, see its output
    panel.locator(".mh-lab-tab-servables").click()
    hit = panel.locator(f".mh-lab-servable-results .mh-lab-hit[data-id='{lab_hub.servable}']")
    hit.click()
    inputs = panel.locator(".mh-lab-servable-details .mh-lab-inputs")
    inputs.wait_for(state="visible")
    assert json.loads(inputs.input_value()) == [0.0]  # an example that fits the servable's input schema
    inputs.fill("[1, 2.5]")
    panel.locator(".mh-lab-servable-details .mh-lab-insert").click()
    page.wait_for_selector(".mh-lab-panel[data-inserted='2']")
    second = notebook.locator(".jp-Cell").nth(1)
    assert (
        f'out = hub.run("{lab_hub.servable}", inputs, parameters=parameters)'
        in second.locator(".cm-content").inner_text()
    )
    second.click()
    notebook.locator(".jp-Toolbar [data-command='notebook:run-cell-and-select-next']").click()
    output = second.locator(".jp-OutputArea-output")
    output.wait_for(state="visible", timeout=LOAD_MS)
    assert output.inner_text().strip() == "[2.0, 5.0]"
    screenshot(page, "lab_panel_servable")
