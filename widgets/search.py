"""``SearchPanel(hub)``: faceted search over a hub (MDF Discover in a notebook or a dashboard).

A query box with field suggestions, facet lists with counts (tick to drill down), range
sliders for numeric fields, a periodic table coloured by records per element (click to
require an element), a paged sortable table of hits, the detail of one hit (metadata tree,
files, structure picture) in a side panel beside the hits (a drawer over them on narrow
screens), and actions: load the selection into the notebook (pandas, and its Intake catalog)
and download its files.  In a Voila dashboard, which has no notebook and whose kernel's
folder is not the viewer's, "Load into notebook" becomes "Copy code to load this" and
"Download selection" hands the browser a zip (with a sha256 manifest).  An action's
message shows next to its buttons.

Every change becomes ONE ``hub.search`` call (plus one per facet list whose own filter is
active, for the counts of its alternatives), made in :meth:`SearchPanel.refresh`.
"""

from __future__ import annotations

import base64
import html
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w
from hub.widgets.facet_list import FacetList
from hub.widgets.feedback import Status
from hub.widgets.namespace import push
from hub.widgets.periodic_table import SYMBOLS, PeriodicTable
from hub.widgets.query_box import QueryBox
from hub.widgets.range_facet import RangeFacet, nice_bounds
from hub.widgets.record_view import RecordView
from hub.widgets.results import DEFAULT_COLUMNS, Column, ResultsTable
from hub.widgets.selection_zip import in_voila, selection_zip
from hub.widgets.state import ELEMENTS_FIELD, SearchState

from hub.api import HubAPI

#: Terms facets shown when present in the hub, in this order (at most ``MAX_FACETS``).
PREFERRED_FACETS = (
    "mdf.source_name",
    "mdf.resource_type",
    "dft.code",
    "dft.method",
    "crystal_structure.space_group_symbol",
    "files.data_type",
    "electron_microscopy.acquisition_mode",
)
#: Numeric fields offered as range sliders when present.
PREFERRED_RANGES = (
    "crystal_structure.volume",
    "crystal_structure.number_of_atoms",
    "dft.total_energy",
    "custom.band_gap",
)
MAX_FACETS = 5
#: Range sliders at most: the preferred fields, then every ``custom.*`` number the hub knows.
MAX_RANGES = 6
#: How many hits "Load into notebook" and "Download selection" take at most.
MAX_LOAD = 1000
MAX_DOWNLOAD = 200

#: The panel's layout rules: the open hit beside the hits (sticky while the page scrolls), as
#: a drawer over them below 1300 px; ids wrap instead of being cut.
PANEL_CSS = """<style>
.mh-search-panel .mh-open button, .mh-search-panel button.mh-open {white-space: normal; height: auto;
  min-height: 26px; line-height: 1.25; text-align: left; overflow-wrap: anywhere; padding: 2px 6px}
.mh-search-panel .mh-detail.mh-detail-open {position: sticky; top: 0; align-self: flex-start;
  max-height: 100vh; overflow: auto; flex: 0 0 440px; width: 440px; margin-left: 12px;
  padding-left: 10px; border-left: 1px solid #ddd; background: #fff}
@media (max-width: 1300px) {
  .mh-search-panel .mh-detail.mh-detail-open {position: fixed; top: 0; right: 0; bottom: 0;
    width: min(460px, 94vw); max-height: none; margin: 0; padding: 8px 12px; z-index: 1000;
    box-shadow: -6px 0 16px rgba(0,0,0,.25)}
}
</style>"""


def field_units(path: str) -> str | None:
    """The units of a record field in MDF's conventions (energies in eV, volumes in Å^3, ...)."""
    from hub.catalog.structures import UNITS

    return UNITS.get(path.rsplit(".", 1)[-1])


def _titles(path: str) -> str:
    return path.split(".", 1)[-1].replace("_", " ")


class SearchPanel(w.VBox):
    """Faceted search over ``hub``.

    Parameters
    ----------
    hub
        A hub (:class:`~hub.api.HubAPI`: embedded or remote, only its public API is used).
    query
        The query to start with.
    facets, ranges
        Field paths for the facet lists (terms) and the range sliders (numbers); default:
        the first of :data:`PREFERRED_FACETS` / :data:`PREFERRED_RANGES` the hub has.
    page_size
        Hits per page.
    columns
        The table's columns.
    kinds
        What to search: records and datasets (servables have their own panel).
    name
        The variable "Load into notebook" binds (``name`` is the hits as a DataFrame,
        ``name + "_catalog"`` their Intake catalog).
    download_dir
        Where "Download selection" writes files (on the machine running the kernel).
    """

    def __init__(
        self,
        hub: HubAPI,
        query: str = "*",
        *,
        facets: Sequence[str] | None = None,
        ranges: Sequence[str] | None = None,
        page_size: int = 10,
        columns: Sequence[Column] = DEFAULT_COLUMNS,
        kinds: Sequence[str] | None = ("record", "dataset"),
        name: str = "selection",
        download_dir: str | Path = "matterhub-downloads",
    ) -> None:
        self.hub = hub
        self.name = name
        self.download_dir = Path(download_dir)
        self.state = SearchState(page_size=page_size, kinds=list(kinds) if kinds else None)
        self.state.set_text(query)
        self.result: Any = None
        self.searches = 0  # hub.search calls made (tests count them)
        self.updates = 0
        self.last_update_ms: float | None = None
        self.frame: Any = None
        self.catalog: Any = None
        self.downloaded: list[Path] = []
        #: In a Voila page: no notebook to load into, and downloads go to the browser.
        self.voila = in_voila()
        self.zip_bytes: bytes | None = None

        fields = hub.fields()
        keyword = [f for f, types in fields.items() if "keyword" in types]
        numeric = [f for f, types in fields.items() if "number" in types]
        if facets is None:
            facets = [f for f in PREFERRED_FACETS if f in keyword][:MAX_FACETS]
        if ranges is None:
            custom = sorted(f for f in numeric if f.startswith("custom."))
            ranges = [f for f in PREFERRED_RANGES if f in numeric][:3] + custom
            ranges = ranges[:MAX_RANGES]

        self.status = Status()
        self.query_box = QueryBox(fields)
        self.query_box.text.value = "" if self.state.text == "*" else self.state.text
        self.query_box.on_submit(self.set_query)
        self.facet_lists = {f: FacetList(f, _titles(f)) for f in facets}
        for fl in self.facet_lists.values():
            fl.on_change(self.tick)
        self.range_facets = self._make_ranges(ranges)
        for rf in self.range_facets.values():
            rf.on_change(self.set_range)
        self.table = PeriodicTable()
        self.table.on_select(self.toggle_element)
        self.results = ResultsTable(page_size, columns)
        self.results.on_open(self.open_hit)
        self.results.on_sort(self.sort_by)
        self.results.on_page(self.turn)
        self.detail = RecordView(hub)
        self.detail.on_load(self._loaded_file)
        self.detail.on_close(self.close_hit)
        self.detail.layout.display = "none"
        self.summary = w.HTML()
        self.summary.add_class("mh-summary")
        self.code = w.HTML()
        wide = w.Layout(width="auto")
        self.load_button = w.Button(
            description="Copy code to load this" if self.voila else "Load into notebook",
            icon="code" if self.voila else "table",
            button_style="info",
            layout=wide,
        )
        self.load_button.add_class("mh-load")
        self.load_button.on_click(lambda _b: self.load())
        self.download_button = w.Button(description="Download selection", icon="download", layout=wide)
        self.download_button.on_click(lambda _b: self.download())
        self.clear_button = w.Button(description="Clear filters", icon="times", layout=wide)
        self.clear_button.on_click(lambda _b: self.clear())

        left = w.VBox(
            [w.HTML("<h4 style='margin:4px 0'>Facets</h4>"), *self.facet_lists.values()]
            + ([w.HTML("<h4 style='margin:4px 0'>Ranges</h4>")] if self.range_facets else [])
            + list(self.range_facets.values()),
            layout=w.Layout(width="270px", min_width="270px", margin="0 12px 0 0"),
        )
        #: Messages of the actions, next to their buttons.
        self.action_status = Status("mh-action-status")
        self.download_link = w.HTML()
        self.download_link.add_class("mh-selection-link")
        self.load_code = w.Textarea(layout=w.Layout(width="100%", height="110px", display="none"))
        self.load_code.add_class("mh-load-code")
        actions = w.HBox(
            [self.load_button, self.download_button, self.clear_button], layout=w.Layout(flex_flow="row wrap")
        )
        right = w.VBox(
            [
                self.summary,
                self.table,
                self.results,
                actions,
                self.action_status,
                self.download_link,
                self.load_code,
                self.code,
            ],
            layout=w.Layout(flex="1 1 auto", min_width="0"),
        )
        super().__init__(
            [
                w.HTML(PANEL_CSS + "<h3 style='margin:4px 0'>MatterHub search</h3>"),
                self.query_box,
                self.status,
                w.HBox([left, right, self.detail], layout=w.Layout(align_items="flex-start")),
            ]
        )
        self.add_class("mh-search-panel")
        self.refresh()

    # -- building ----------------------------------------------------------------------

    def _make_ranges(self, ranges: Sequence[str]) -> dict[str, RangeFacet]:
        if not ranges:
            return {}
        specs = [{"field": f, "type": "histogram", "buckets": 24} for f in ranges]
        res = self._search("*", facets=specs, limit=0, kinds=self.state.kinds)
        out = {}
        for f in ranges:
            bounds = nice_bounds(res.facets.get(f))
            if bounds is not None:
                out[f] = RangeFacet(f, *bounds, title=_titles(f), units=field_units(f))
        return out

    def _search(self, q: str, **kw: Any) -> Any:
        self.searches += 1
        return self.hub.search(q, **kw)

    # -- what the widgets do -----------------------------------------------------------

    def set_query(self, text: str) -> None:
        """Run a new query text; a query the hub cannot parse shows its error and changes nothing."""
        before = (self.state.text, self.state.page)
        self.state.set_text(text)
        if not self.refresh():
            self.state.text, self.state.page = before

    def tick(self, field: str, value: str, on: bool) -> None:
        self.state.toggle(field, value, on)
        self.refresh()

    def toggle_element(self, symbol: str) -> None:
        self.state.toggle_element(symbol)
        self.refresh()

    def set_range(self, field: str, bounds: tuple[float, float] | None) -> None:
        self.state.set_range(field, bounds)
        self.refresh()

    def sort_by(self, path: str) -> None:
        self.state.set_sort(path)
        self.refresh()

    def turn(self, delta: int) -> None:
        total = self.result.total if self.result is not None else 0
        page = min(max(0, self.state.page + delta), self.state.pages(total) - 1)
        if page != self.state.page:
            self.state.page = page
            self.refresh(facets=False)

    def clear(self) -> None:
        self.state.clear()
        self.refresh()

    def open_hit(self, hit: Any) -> None:
        """Show ``hit`` in the side panel (a drawer over the hits on narrow screens)."""
        self.detail.show(hit)
        self.detail.layout.display = None
        self.detail.add_class("mh-detail-open")

    def close_hit(self) -> None:
        self.detail.remove_class("mh-detail-open")
        self.detail.layout.display = "none"

    # -- the one place the hub is asked ------------------------------------------------

    def facet_specs(self) -> list[Any]:
        specs: list[Any] = [{"field": ELEMENTS_FIELD, "size": len(SYMBOLS)}]
        specs += [{"field": f, "size": fl.size} for f, fl in self.facet_lists.items()]
        specs += [rf.facet_spec() for rf in self.range_facets.values()]
        return specs

    def refresh(self, facets: bool = True) -> bool:
        """Search with the current state and show the result (facets too unless ``facets=False``);
        returns False when the hub refused the search (its message is on the status line)."""
        t0 = time.perf_counter()
        done = False
        with self.status.guard():
            q = self.state.query()
            res = self._search(q, **self.state.search_kwargs(self.facet_specs() if facets else []))
            self.result = res
            if facets:
                self._show_facets(q, res)
            pages = self.state.pages(res.total)
            self.results.update(res.hits, self.state.page, pages, self.state.sort)
            self.code.value = (
                f"<code style='font-size:11px;color:#555'>{html.escape(self.state.describe())}</code>"
            )
            self.updates += 1
            self.last_update_ms = (time.perf_counter() - t0) * 1e3
            notes = " ".join(dict.fromkeys(w["message"] for w in res.warnings))  # mistyped fields
            if self.status.kind == "error" or notes or self.status.text.startswith("no document"):
                self.status.info(notes)
            self._show_summary(res)
            done = True
        return done

    def _show_facets(self, q: str, res: Any) -> None:
        for f, fl in self.facet_lists.items():
            facet = res.facets.get(f)
            if f in self.state.filters:  # its alternatives: counted without its own filter
                kw = self.state.search_kwargs([{"field": f, "size": fl.size}])
                kw.update(filters=self.state.without_filter(f), limit=0, offset=0, sort=None)
                facet = self._search(q, **kw).facets.get(f)
            fl.update(facet, self.state.filters.get(f, []))
        buckets = (res.facets.get(ELEMENTS_FIELD) or {}).get("buckets", [])
        self.table.update({b["value"]: b["count"] for b in buckets}, set(self.state.elements))
        for f, rf in self.range_facets.items():
            rf.update(res.facets.get(f), self.state.ranges.get(f))

    def _show_summary(self, res: Any) -> None:
        drill = []
        if self.state.elements:
            drill.append("elements " + " + ".join(self.state.elements))
        drill += [f"{_titles(k)}: {' or '.join(v)}" for k, v in self.state.filters.items()]
        drill += [f"{_titles(k)} {lo:g} to {hi:g}" for k, (lo, hi) in self.state.ranges.items()]
        extra = f" &middot; {html.escape('; '.join(drill))}" if drill else ""
        self.summary.value = (
            f"<div data-update='{self.updates}' style='font-size:14px;margin:4px 0'>"
            f"<b class='mh-total'>{res.total:,}</b> hits for <code>{html.escape(self.state.query())}</code>{extra}"
            f" <span style='color:#888;font-size:11px'>({self.last_update_ms:.0f} ms)</span></div>"
        )

    # -- actions -----------------------------------------------------------------------

    def selection(self, limit: int) -> Any:
        """The current selection's first ``limit`` hits (same query, filters and order)."""
        kw = self.state.search_kwargs()
        kw.update(limit=limit, offset=0)
        kw.pop("facets")
        return self._search(self.state.query(), **kw)

    def load(self) -> Any:
        """In Voila: show the code that loads the selection (:meth:`load_code_text`); else :meth:`load_here`."""
        if self.voila:
            with self.action_status.guard():
                self.load_code.value = self.load_code_text()
                self.load_code.layout.display = None
                self.action_status.ok("Copy this code into a notebook to load the selection there:")
            return None
        return self.load_here()

    def load_code_text(self) -> str:
        """Python that loads the current selection in a notebook (the hub this page shows)."""
        url = os.environ.get("MATTERHUB_URL")
        where = repr(url) if url else repr(os.environ.get("MATTERHUB_HOME") or "")
        opened = f"Hub({where})" if where != "''" else "Hub()"
        call = self.state.describe()[: -len(")")] + f", limit={MAX_LOAD})"
        return "\n".join(
            [
                "from hub import Hub",
                "",
                f"hub = {opened}",
                f"res = {call}",
                f"{self.name}_catalog = res.to_catalog()",
                f"{self.name} = {self.name}_catalog['hits'].read() if 'hits' in {self.name}_catalog "
                "else res.to_dataframe()",
                self.name,
            ]
        )

    def load_here(self) -> Any:
        """The selection's Intake catalog (``self.catalog``) and its records read through it as
        a pandas DataFrame (``self.frame``: the catalog's ``hits`` entry, with units in
        ``frame.attrs``; a selection of datasets only gives one row per hit instead), bound in
        the notebook as ``name`` and ``name_catalog``; returns the frame.  Each dataset of the
        selection is an entry of the catalog whose files read as pandas or xarray."""
        with self.action_status.guard():
            total = self.result.total if self.result is not None else 0
            res = self.selection(min(max(total, 1), MAX_LOAD))
            self.catalog = res.to_catalog()
            self.frame = self.catalog["hits"].read() if "hits" in self.catalog else res.to_dataframe()
            bound = push(self.name, self.frame) and push(f"{self.name}_catalog", self.catalog)
            where = (
                f"bound in the notebook as {self.name} (pandas) and {self.name}_catalog (Intake)"
                if bound
                else "kept on the panel as .frame and .catalog"
            )
            cut = f" (the first {len(res.hits):,} of {res.total:,})" if res.total > len(res.hits) else ""
            self.action_status.ok(
                f"loaded {len(self.frame):,} hits{cut}: {self.frame.shape[0]} rows x {self.frame.shape[1]} "
                f"columns; catalog entries {', '.join(list(self.catalog)[:8])}; {where}"
            )
            return self.frame
        return None

    def download(self, dest: str | Path | None = None) -> list[Path]:
        """In Voila (and no ``dest``): :meth:`download_zip`; else copy the files of the selection's
        first hits under ``dest`` (default ``download_dir``)."""
        if self.voila and dest is None:
            self.download_zip()
            return []
        with self.action_status.guard():
            target = Path(dest) if dest is not None else self.download_dir
            total = self.result.total if self.result is not None else 0
            res = self.selection(min(max(total, 1), MAX_DOWNLOAD))
            self.downloaded = self.hub.download(res, target)
            cut = (
                f" (files of the first {len(res.hits)} of {res.total:,} hits)"
                if res.total > len(res.hits)
                else ""
            )
            self.action_status.ok(f"downloaded {len(self.downloaded)} files to {target.absolute()}{cut}")
            return self.downloaded
        return []

    def download_zip(self) -> bytes | None:
        """The files of the selection's first hits as a zip with a sha256 manifest, offered to the
        browser as a link (``selection.zip``); returns the zip."""
        with self.action_status.guard():
            total = self.result.total if self.result is not None else 0
            res = self.selection(min(max(total, 1), MAX_DOWNLOAD))
            self.zip_bytes, n = selection_zip(self.hub, res)
            uri = "data:application/zip;base64," + base64.b64encode(self.zip_bytes).decode()
            self.download_link.value = (
                f"<a download='selection.zip' href='{uri}' class='mh-download-link' "
                f"style='font-weight:bold'>Save selection.zip</a> "
                f"<span style='color:#555'>({n} files, {len(self.zip_bytes) / 1000:,.1f} kB, with SHA256SUMS)</span>"
            )
            cut = f" of the first {len(res.hits)} of {res.total:,} hits" if res.total > len(res.hits) else ""
            self.action_status.ok(f"selection.zip is ready{cut}: save it with the link below")
            return self.zip_bytes
        return None

    def _loaded_file(self, path: str, obj: Any) -> None:
        stem = "".join(c if c.isalnum() else "_" for c in Path(path).stem).strip("_") or "file"
        name = f"{self.name}_{stem}" if not stem[0].isdigit() else f"{self.name}__{stem}"
        bound = push(name, obj)
        kind = type(obj).__module__.split(".")[0] + "." + type(obj).__name__
        shape = getattr(obj, "shape", None)
        self.detail.status.ok(
            f"{path} read as {kind}{f' of shape {tuple(shape)}' if shape is not None else ''}"
            + (f"; bound in the notebook as {name}" if bound else "; kept as panel.detail.loaded")
        )
