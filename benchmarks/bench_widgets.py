"""Widgets benchmark (see ../shared/design/BENCHMARKS.md): the search dashboard in a real browser.

A hub holds N generated MDF records (full run 100,000; ``--quick`` 10,000), made by
``bench_search.generate`` (fixed seed; compositions drawn from the element frequencies of
the Materials Project formation-energy set when ../shared/data is present; 200 datasets;
DFT blocks on ~40% of records) and written straight into the hub's search index.  A Voila
server serves the search dashboard (``SearchPanel`` with three facet lists, three range
sliders and the periodic table) and Debian's chromium opens it through Playwright.

1. ``load_ms``: from navigation start to an interactive dashboard: the first result shown
   and every part drawn (a new kernel each time: start, imports, opening the hub, building
   ~500 widgets, the first search, rendering).
2. One update = one click (a facet checkbox or an element of the periodic table) to the
   updated result in the page, timed inside the page (``performance.now()`` around the click
   and a MutationObserver on the summary).  Side by side, in this process:

   A. the browser (click -> kernel -> hub.search -> widget messages -> DOM);
   B. the same event on an in-process ``SearchPanel`` over the same hub (no browser, no
      comm: the panel's own Python work and its hub.search calls);
   C. the limit: the same ``hub.search`` calls alone, replayed.

   A, B and C alternate per event (the order flips every round) after a warm-up round;
   each round ticks and unticks a data source, a DFT code and an element (6 events), so
   every round starts from the same state.  Goal: A p50 <= 300 ms at 100,000 records.

3. ``--first-hour``: instead, the first-hour session of issue 24 on the real G4MP2 study
   (``servables.atomization_delta.publish_study`` into a new hub; needs ../shared/data):
   the search dashboard's cold load to its first hits, then each click of the session
   timed from the click to the updated page (query, facet, element, open a record,
   download the selection as a zip, and on the servables dashboard opened on that record:
   run ``atomization-delta`` to its output table with units, switch the unit), ``--rounds``
   times; goal: every kind of click p95 <= 300 ms, cold load <= 3 s.

Usage: python benchmarks/bench_widgets.py [--quick] [--records N] [--rounds K] [--loads L] [--first-hour]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_search import FACET_EL, SEED, corpus_root, generate  # noqa: E402

from hub import Hub  # noqa: E402
from hub.index.engine import SearchIndex  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FACETS = ["mdf.source_name", "dft.code", "dft.method"]
RANGES = ["crystal_structure.volume", "custom.band_gap", "dft.total_energy"]
CODES = ["VASP", "Quantum ESPRESSO", "Gaussian"]
GOAL_MS = 300.0

NOTEBOOK_CODE = f"""\
from hub.widgets import SearchPanel
from hub.widgets.connection import open_hub

hub = open_hub()
panel = SearchPanel(hub, facets={FACETS!r}, ranges={RANGES!r})
panel"""

#: The dashboard is interactive when its first result is shown AND every part is drawn (views
#: render asynchronously: the summary can appear before the facet lists and the table).
READY_JS = """
() => (!!document.querySelector(".mh-summary [data-update='1']")
  && document.querySelectorAll(".mh-facet .widget-checkbox .widget-label-basic span").length > 0
  && document.querySelectorAll(".mh-range").length === RANGES
  && !!document.querySelector(".mh-el-Og") && !!document.querySelector(".mh-detail")
  && document.querySelectorAll(".mh-results .mh-open").length > 0) ? performance.now() : -1
""".replace("RANGES", str(len(RANGES))).strip()

#: Clicks a checkbox or button in the page and waits for the summary to show update ``next``;
#: returns the milliseconds between the click and that DOM change.
CLICK_JS = """
([kind, field, value, next]) => new Promise((resolve, reject) => {
  let target = null;
  if (kind === "element") {
    target = document.querySelector(".mh-el-" + value);
  } else {
    const boxes = document.querySelectorAll(".mh-facet-" + field.replaceAll(".", "-") + " .widget-checkbox");
    for (const b of boxes) {
      const label = b.querySelector(".widget-label-basic span");
      if (b.offsetParent !== null && label && label.textContent.startsWith(value + " (")) {
        target = b.querySelector("input");
      }
    }
  }
  if (!target) { reject(new Error("no control for " + kind + " " + value)); return; }
  const summary = document.querySelector(".mh-summary");
  const done = () => summary.querySelector("[data-update='" + next + "']");
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (done()) { obs.disconnect(); resolve(performance.now() - t0); }
  });
  obs.observe(summary, {subtree: true, childList: true, characterData: true, attributes: true});
  target.click();
  setTimeout(() => { obs.disconnect(); reject(new Error("no update after 60 s")); }, 60000);
})
""".strip()


def wait_ready(page: Any, timeout_s: float = 180.0) -> float:
    """Poll the page until the dashboard is interactive; returns ms since navigation start."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            at = float(page.evaluate(READY_JS))
        except Exception:  # the page is still loading (its context is being replaced)
            at = -1.0
        if at >= 0:
            return at
        time.sleep(0.02)
    raise TimeoutError(f"the dashboard was not interactive after {timeout_s:.0f} s")


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.array(xs), p))


def build_hub(home: Path, n: int) -> dict[str, Any]:
    """An embedded hub whose search index holds ``n`` generated records."""
    with Hub(home, progress=False) as hub:  # the folder, its config, an empty catalog and index
        index_path = hub.config.index
    docs, info = generate(n, corpus_root())
    t0 = time.perf_counter()
    count = SearchIndex(index_path).replace_sources([], docs)
    assert count == n, (count, n)
    return {"build_s": round(time.perf_counter() - t0 - info["gen_s"], 2), **info}


def write_dashboard(folder: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    folder.mkdir(parents=True, exist_ok=True)
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [new_code_cell(NOTEBOOK_CODE)]
    nbformat.write(nb, folder / "search.ipynb")
    return folder


def events(rounds: int, sources: list[str]) -> list[list[tuple[str, str, str]]]:
    """Per round: tick a source, an element and a DFT code ("*": the first one listed then),
    then untick them in the same order (6 events, back to the first state)."""
    out = []
    for r in range(rounds):
        el, src = FACET_EL[r % len(FACET_EL)], sources[r % len(sources)]
        on = [("facet", "mdf.source_name", src), ("element", "", el), ("facet", "dft.code", "*")]
        out.append(on + on)
    return out


def resolve(panel: Any, event: tuple[str, str, str], picked: dict[str, str]) -> tuple[str, str, str]:
    """A "*" value becomes the first value its facet list shows now (then the one ticked)."""
    kind, field, value = event
    if value != "*":
        return event
    if field in picked:
        return kind, field, picked.pop(field)
    shown = panel.facet_lists[field].values
    if not shown:
        raise RuntimeError(f"{field} lists no value in this state; choose other sources")
    picked[field] = shown[0]
    return kind, field, shown[0]


class InProcess:
    """The same panel in this process; ``apply`` is B, ``replay`` is C (its hub.search calls)."""

    def __init__(self, hub: Hub) -> None:
        import comm
        from hub.widgets import SearchPanel

        self.messages: list[Any] = []
        log = self.messages

        class _Comm:  # stands in for the kernel's comm: counts what a browser would receive
            kernel = "bench"

            def __init__(self, **kw: Any) -> None:
                self.comm_id = os.urandom(8).hex()

            def send(self, data: Any = None, **kw: Any) -> None:
                log.append(data)

            def on_msg(self, cb: Any) -> None:
                pass

            def close(self, *a: Any, **k: Any) -> None:
                pass

            def open(self, *a: Any, **k: Any) -> None:
                pass

        comm.create_comm = lambda **kw: _Comm(**kw)
        t0 = time.perf_counter()
        self.panel = SearchPanel(hub, facets=FACETS, ranges=RANGES)
        self.build_ms = (time.perf_counter() - t0) * 1e3
        self.widgets = len(self.messages)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        real = hub.search

        def spy(q: str = "*", **kw: Any) -> Any:
            self.calls.append((q, kw))
            return real(q, **kw)

        self.real_search = real
        hub.search = spy  # type: ignore[method-assign]
        self.last_calls: list[tuple[str, dict[str, Any]]] = []

    def apply(self, kind: str, field: str, value: str) -> tuple[float, int]:
        """(ms, widget messages) of one event."""
        self.calls.clear()
        mark = len(self.messages)
        t0 = time.perf_counter()
        if kind == "element":
            self.panel.table.buttons[value].click()
        else:
            fl = self.panel.facet_lists[field]
            box = fl.boxes[fl.values.index(value)]
            box.value = not box.value
        ms = (time.perf_counter() - t0) * 1e3
        self.last_calls = list(self.calls)
        return ms, len(self.messages) - mark

    def replay(self) -> float:
        t0 = time.perf_counter()
        for q, kw in self.last_calls:
            self.real_search(q, **kw)
        return (time.perf_counter() - t0) * 1e3


def code_version() -> dict[str, Any]:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "hub", "widgets"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return {"commit": head, "dirty": bool(dirty)}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


#: Goals of the first-hour session: each kind of click's p95, and the cold load to first hits.
FIRST_HOUR_GOAL_MS = 300.0
COLD_LOAD_GOAL_MS = 3000.0


def timed(page: Any, act: Any, done: str) -> float:
    """Milliseconds from ``act()`` (a click) to ``done`` (a selector) being visible."""
    t0 = time.perf_counter()
    act()
    page.wait_for_selector(done, state="visible", timeout=120_000)
    return (time.perf_counter() - t0) * 1e3


def first_hour(rounds: int, loads: int) -> dict[str, Any]:
    """The first-hour session on the G4MP2 study (see the module docstring, 3.)."""
    from hub.widgets.serve import DashboardServer
    from playwright.sync_api import sync_playwright

    from servables.atomization_delta.publish import publish_study

    tmp = Path(tempfile.mkdtemp(prefix="bench_first_hour_"))
    clicks: dict[str, list[float]] = {}
    load_ms: list[float] = []
    try:
        with Hub(tmp / "hub", progress=False) as hub:
            publish_study(hub)
        server = DashboardServer(tmp / "hub", log=tmp / "voila.log", downloads=tmp / "dl")
        with server, sync_playwright() as p:
            browser = p.chromium.launch(headless=True, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for _ in range(loads):
                    page = browser.new_page(viewport={"width": 1024, "height": 768})
                    page.goto(server.url("search"), wait_until="commit")
                    page.wait_for_selector(".mh-summary [data-update='1']", timeout=180_000)
                    load_ms.append(page.evaluate("performance.now()"))
                    page.close()
                page = browser.new_page(viewport={"width": 1024, "height": 768}, accept_downloads=True)
                page.goto(server.url("search"))
                page.wait_for_selector(".mh-summary [data-update='1']", timeout=180_000)
                n = 1
                for r in range(rounds + 1):
                    got: dict[str, float] = {}

                    def step(name: str, act: Any, done: str, got: dict[str, float] = got) -> None:
                        got[name] = timed(page, act, done)

                    box = page.locator(".mh-query input")
                    box.fill("material.elements:O" if r % 2 == 0 else "material.elements:C")
                    step("query", partial(box.press, "Enter"), f".mh-summary [data-update='{n + 1}']")
                    facet = page.locator(".mh-facet-mdf-source_name label", has_text="g4mp2_gdb_sugars")
                    step(
                        "facet",
                        facet.locator("input").click,
                        f".mh-summary [data-update='{n + 2}']",
                    )
                    table = page.locator(".mh-periodic-table").get_by_role("button", name="H", exact=True)
                    step("element", table.click, f".mh-summary [data-update='{n + 3}']")
                    n += 3
                    first = page.locator(".mh-results .mh-open").first
                    rid = first.inner_text().strip()
                    step("open record", first.click, f".mh-detail-title:has-text('{rid}')")
                    page.evaluate(
                        "document.querySelectorAll('.mh-selection-link a').forEach(a => a.remove())"
                    )
                    step(
                        "download zip",
                        page.locator("button", has_text="Download selection").click,
                        ".mh-selection-link a.mh-download-link",
                    )
                    step(
                        "clear",
                        page.locator("button", has_text="Clear filters").click,
                        f".mh-summary [data-update='{n + 1}']",
                    )
                    n += 1
                    run = browser.new_page(viewport={"width": 1024, "height": 768})
                    run.goto(server.url("servables", f"record={rid}"))
                    run.wait_for_selector(".mh-run", timeout=180_000)
                    got["run on record"] = timed(run, run.locator(".mh-run").click, ".mh-output-units")
                    choice = run.locator(".mh-unit-choice select")
                    got["switch unit"] = timed(
                        run,
                        partial(choice.select_option, "kcal/mol"),
                        ".mh-output-units:has-text('kcal/mol')",
                    )
                    run.close()
                    if r == 0:
                        continue  # warm-up round
                    for k, v in got.items():
                        clicks.setdefault(k, []).append(v)
            finally:
                browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    p95 = {k: round(pct(v, 95), 1) for k, v in clicks.items()}
    print(f"First-hour session (G4MP2 study), {rounds} rounds after a warm-up; nproc {os.cpu_count()}")
    print(
        f"  cold load to first hits: median {statistics.median(load_ms):,.0f} ms (goal <= {COLD_LOAD_GOAL_MS:,.0f})"
    )
    for k, v in clicks.items():
        print(
            f"  {k:<16} p50 {pct(v, 50):>7.1f} ms  p95 {p95[k]:>7.1f} ms  {'met' if p95[k] <= FIRST_HOUR_GOAL_MS else 'NOT met'}"
        )
    return {
        "bench": "widgets_first_hour",
        "nproc": os.cpu_count(),
        **code_version(),
        "cold_load_ms": round(statistics.median(load_ms), 1),
        "cold_load_goal_met": statistics.median(load_ms) <= COLD_LOAD_GOAL_MS,
        "click_p95_ms": p95,
        "click_goal_ms": FIRST_HOUR_GOAL_MS,
        "clicks_goal_met": all(v <= FIRST_HOUR_GOAL_MS for v in p95.values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="10,000 records, 1 page load, 2 rounds: under 60 s")
    ap.add_argument("--records", type=int, default=None, help="records (full run: 100,000)")
    ap.add_argument(
        "--rounds", type=int, default=None, help="measured rounds of 6 clicks (after a warm-up round)"
    )
    ap.add_argument("--loads", type=int, default=None, help="page loads timed")
    ap.add_argument("--keep", type=Path, default=None, help="build the hub in DIR and keep it")
    ap.add_argument("--reuse", action="store_true", help="with --keep: reuse the hub already in DIR")
    ap.add_argument("--first-hour", action="store_true", help="the first-hour session on the G4MP2 study")
    args = ap.parse_args()
    if args.first_hour:
        if not CHROMIUM.exists():
            raise SystemExit(f"no chromium at {CHROMIUM}: install it (make system-deps)")
        print(
            json.dumps(
                first_hour(args.rounds or (2 if args.quick else 5), args.loads or (1 if args.quick else 3))
            )
        )
        return
    n = args.records or (10_000 if args.quick else 100_000)
    rounds = args.rounds or (2 if args.quick else 5)
    loads = args.loads or (1 if args.quick else 3)
    if not CHROMIUM.exists():
        raise SystemExit(f"no chromium at {CHROMIUM}: install it (make system-deps)")
    from hub.widgets.serve import DashboardServer
    from playwright.sync_api import sync_playwright

    t_start = time.perf_counter()
    version = code_version()
    tmp = Path(tempfile.mkdtemp(prefix="bench_widgets_"))
    home = args.keep if args.keep is not None else tmp / "hub"
    marker = home / "bench_widgets.json"
    try:
        built = json.loads(marker.read_text()) if args.reuse and marker.exists() else {}
        if built.get("records") == n:
            print(f"reusing the hub in {home} (built earlier)")
        else:
            if home.exists():
                shutil.rmtree(home)
            built = {"records": n, **build_hub(home, n)}
            if args.keep is not None:
                marker.write_text(json.dumps(built))
        hub = Hub(home, progress=False)
        local = InProcess(hub)
        top = local.panel.result.facets["mdf.source_name"]["buckets"]
        sources = [b["value"] for b in top[:4]]
        plan = events(rounds + 1, sources)
        dashboards = write_dashboard(tmp / "dashboards")
        server = DashboardServer(home, dashboards=dashboards, log=tmp / "voila.log", downloads=tmp / "dl")
        load_ms: list[float] = []
        a_ms: list[float] = []
        b_ms: list[float] = []
        c_ms: list[float] = []
        msgs: list[int] = []
        round_a: list[float] = []
        round_b: list[float] = []
        round_c: list[float] = []
        with server, sync_playwright() as p:
            browser = p.chromium.launch(headless=True, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = None
                for _ in range(loads):
                    if page is not None:
                        page.close()
                    page = browser.new_page(viewport={"width": 1400, "height": 1300})
                    page.goto(server.url("search"), wait_until="commit")
                    load_ms.append(wait_ready(page))
                assert page is not None
                shown = 1
                picked: dict[str, str] = {}
                for r, round_events in enumerate(plan):
                    ra, rb, rc = [], [], []
                    for j, event in enumerate(round_events):
                        kind, field, value = resolve(local.panel, event, picked)
                        order = (0, 1) if (r + j) % 2 == 0 else (1, 0)
                        for side in order:
                            if side == 0:
                                shown += 1
                                ms = float(page.evaluate(CLICK_JS, [kind, field, value, shown]))
                                ra.append(ms)
                            else:
                                ms_b, m = local.apply(kind, field, value)
                                rb.append(ms_b)
                                rc.append(local.replay())
                                msgs.append(m)
                    if r == 0:
                        continue  # warm-up round
                    a_ms += ra
                    b_ms += rb
                    c_ms += rc
                    round_a.append(statistics.median(ra))
                    round_b.append(statistics.median(rb))
                    round_c.append(statistics.median(rc))
                total_shown = int(page.locator(".mh-summary .mh-total").inner_text().replace(",", ""))
                assert total_shown == local.panel.result.total, (total_shown, local.panel.result.total)
            finally:
                browser.close()
        hub.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    a50, b50, c50 = pct(a_ms, 50), pct(b_ms, 50), pct(c_ms, 50)
    print(
        f"Widgets benchmark: {n:,} synthetic MDF records (bench_search.generate, seed {SEED}; "
        f"compositions from {built['elements_from']}); nproc {os.cpu_count()}; commit {version['commit']}"
        f"{' + uncommitted changes' if version['dirty'] else ''}"
    )
    print(
        f"  index build {built['build_s']} s; search dashboard: {len(FACETS)} facet lists, {len(RANGES)} range "
        f"sliders, periodic table; {local.widgets:,} widget messages to draw it (in-process build "
        f"{local.build_ms:.0f} ms)"
    )
    print(
        f"  page load to first result: median {statistics.median(load_ms):,.0f} ms "
        f"(min-max {min(load_ms):,.0f}-{max(load_ms):,.0f}, {len(load_ms)} loads, a new kernel each)"
    )
    print(
        f"  one click -> updated result, {len(a_ms)} events ({rounds} rounds x 6, alternating A/B/C after a warm-up):"
    )
    print(f"    {'':34} {'p50 ms':>8} {'p95 ms':>8}  round-median spread")
    for label, xs, spread in (
        ("A browser (click to DOM)", a_ms, round_a),
        ("B in-process SearchPanel", b_ms, round_b),
        ("C its hub.search calls alone", c_ms, round_c),
    ):
        print(f"    {label:34} {pct(xs, 50):>8.1f} {pct(xs, 95):>8.1f}  {min(spread):.1f}-{max(spread):.1f}")
    print(
        f"  ratios: browser / in-process {a50 / b50:.2f}; in-process / search {b50 / c50:.2f}; "
        f"widget messages per update: median {statistics.median(msgs):.0f} (max {max(msgs)})"
    )
    print(
        f"  facet update p50 {a50:.0f} ms in the browser (goal <= {GOAL_MS:.0f} ms): {'met' if a50 <= GOAL_MS else 'NOT met'}"
    )
    out = {
        "bench": "widgets",
        "quick": args.quick,
        "records": n,
        "seed": SEED,
        "nproc": os.cpu_count(),
        **version,
        "load_ms": round(statistics.median(load_ms), 1),
        "load_spread_ms": [round(min(load_ms), 1), round(max(load_ms), 1)],
        "facet_update_p50_ms": round(a50, 1),
        "facet_update_p95_ms": round(pct(a_ms, 95), 1),
        "facet_update_spread_ms": [round(min(round_a), 1), round(max(round_a), 1)],
        "inprocess_update_p50_ms": round(b50, 1),
        "inprocess_update_p95_ms": round(pct(b_ms, 95), 1),
        "search_p50_ms": round(c50, 1),
        "ratio_browser_to_inprocess": round(a50 / b50, 2),
        "ratio_inprocess_to_search": round(b50 / c50, 2),
        "messages_per_update": statistics.median(msgs),
        "widget_messages_to_draw": local.widgets,
        "inprocess_build_ms": round(local.build_ms, 1),
        "events": len(a_ms),
        "goal_ms": GOAL_MS,
        "goal_met": a50 <= GOAL_MS,
        "index_build_s": built["build_s"],
        "elapsed_s": round(time.perf_counter() - t_start, 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
