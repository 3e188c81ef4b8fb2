"""The Voila dashboards in a real browser (chromium through Playwright): search by typing,
ticking a facet and clicking the periodic table; publish a folder and find it; run a
servable and see its image.  Expected numbers come from the same hub, asked directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import LOAD_MS, needs_chromium
from hub.widgets.serve import DashboardServer

from hub import Hub

pytestmark = [needs_chromium, pytest.mark.slow]
KINDS = ["record", "dataset"]


def wait_update(page: Any, n: int) -> int:
    """Wait until the search panel has shown its n-th result; returns the total it shows."""
    page.wait_for_selector(f".mh-summary [data-update='{n}']", timeout=LOAD_MS)
    return int(page.locator(".mh-summary .mh-total").inner_text().replace(",", ""))


def test_search_query_facet_and_periodic_table(
    page: Any, dashboards: DashboardServer, dashboard_home: Path, screenshot: Any
) -> None:
    hub = Hub(dashboard_home, progress=False)
    try:
        page.goto(dashboards.url("search"))
        assert wait_update(page, 1) == hub.search("*", kinds=KINDS).total
        assert page.locator(".mh-periodic-table button").count() == 118

        box = page.locator(".mh-query input")
        box.fill("material.elements:O")
        box.press("Enter")
        total = wait_update(page, 2)
        assert total == hub.search("material.elements:O", kinds=KINDS).total > 2

        facet = page.locator(".mh-facet-mdf-source_name label", has_text="minerals")
        facet.locator("input").check()
        total = wait_update(page, 3)
        q = "material.elements:O"
        assert total == hub.search(q, filters={"mdf.source_name": ["minerals"]}, kinds=KINDS).total == 2

        page.locator(".mh-periodic-table").get_by_role("button", name="Si", exact=True).click()
        total = wait_update(page, 4)
        expected = hub.search(
            "material.elements:O AND material.elements:Si",
            filters={"mdf.source_name": ["minerals"]},
            kinds=KINDS,
        )
        assert total == expected.total == 1
        shown = page.locator(".mh-results .mh-result-row:visible .mh-open").all_inner_texts()
        assert [t.strip() for t in shown] == [h.id for h in expected.hits]

        page.locator(".mh-results .mh-open").first.click()
        picture = page.locator("img.mh-structure")
        picture.wait_for(state="visible")
        assert picture.evaluate("img => img.naturalWidth") > 100
        assert expected.hits[0].id in page.locator(".mh-detail-title").inner_text()
        screenshot(page, "search_dashboard")
    finally:
        hub.close()


def test_publish_a_folder_and_find_it(
    page: Any, dashboards: DashboardServer, dashboard_home: Path, shared_data: Path, screenshot: Any
) -> None:
    folder = shared_data / "materialsio" / "crystal_structure"
    page.goto(dashboards.url("publish"))
    page.wait_for_selector(".mh-publish", timeout=LOAD_MS)
    page.locator(".mh-source-path input").fill(str(folder))
    page.locator(".mh-title input").fill("Crystals from the browser")
    page.locator(".mh-author-name input").fill("Ward, Logan")
    page.locator(".mh-author-affiliation input").fill("Argonne National Laboratory")
    page.locator(".mh-publish").click()
    link = page.locator("a.mh-open-dataset")
    link.wait_for(state="visible", timeout=LOAD_MS)
    steps = page.locator(".mh-steps").inner_text()
    assert all(name in steps for name in ("collect", "extract", "validate", "dispatch"))
    assert "failed" not in steps
    screenshot(page, "publish_dashboard")

    with Hub(dashboard_home, progress=False) as hub:
        ds = hub.dataset("crystals_from_the_browser")
        assert ds.n_records == 4 and ds.metadata["dc"]["creators"][0]["affiliation"] == [
            "Argonne National Laboratory"
        ]
        expected = hub.search(f'mdf.source_id:"{ds.source_id}"', kinds=KINDS).total
    with page.context.expect_page() as opened:
        link.click()
    search = opened.value
    assert wait_update(search, 1) == expected == 5  # the dataset and its 4 records
    assert ds.source_id in search.locator(".mh-summary").inner_text()
    screenshot(search, "publish_then_search")
    search.close()

    # files chosen in the browser's file dialog are uploaded to the kernel and published too
    minerals = sorted((shared_data / "ase" / "minerals").glob("*.cif"))[:2]
    page.locator(".mh-source-path input").fill("")
    with page.expect_file_chooser() as chooser:
        page.locator(".mh-upload").click()
    chooser.value.set_files([str(p) for p in minerals])
    page.locator(".mh-upload", has_text="(2)").wait_for()  # "Choose files (2)"
    page.locator(".mh-title input").fill("Uploaded minerals")
    page.locator(".mh-publish").click()
    page.locator("a.mh-open-dataset", has_text="uploaded_minerals_v1").wait_for(timeout=LOAD_MS)
    with Hub(dashboard_home, progress=False) as hub:
        files = hub.dataset("uploaded_minerals").files()
    assert sorted(f["path"] for f in files) == [p.name for p in minerals]


def test_run_a_servable_and_see_its_image(page: Any, dashboards: DashboardServer, screenshot: Any) -> None:
    page.goto(dashboards.url("servables"))
    page.wait_for_selector(".mh-run", timeout=LOAD_MS)
    assert "Lattice image" in page.locator(".mh-servable-info").inner_text()
    assert "{a: number, b: number}" in page.locator(".mh-schema").inner_text()
    page.locator(".mh-field-a input").fill("4")
    page.locator(".mh-field-b input").fill("8")
    page.locator(".mh-field-b input").press("Enter")
    page.locator(".mh-run").click()
    image = page.locator("img.mh-output-image")
    image.wait_for(state="visible", timeout=LOAD_MS)
    assert image.evaluate("img => img.naturalWidth") > 100
    assert "done in" in page.locator(".mh-task-status").inner_text()
    screenshot(page, "servable_run")

    page.get_by_role("checkbox", name="run as a task (asynchronous)").check()
    page.locator(".mh-run").click()
    page.wait_for_selector(".mh-task-completed", timeout=LOAD_MS)
    assert "finished" in page.locator(".mh-task-status").inner_text()
    screenshot(page, "servable_task")
