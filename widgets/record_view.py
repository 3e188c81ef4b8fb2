"""One hit in detail: its metadata as a tree, its files (download one, or load it through the
hub's Intake catalog as pandas or xarray) and, for crystals and molecules, a picture."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import ipywidgets as w
from hub.widgets.feedback import Status
from hub.widgets.structure import has_structure, structure_png
from hub.widgets.tree import tree_html

from hub.api import HubAPI

#: Largest file offered as a browser download (read whole into the page).
MAX_BROWSER_DOWNLOAD = 25 * 1024 * 1024


def _size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


#: Under the file list of a dataset published by reference (``mdf.by_reference``).
BY_REFERENCE = "<p><i>Published by reference: these files stay at their source; reads go there, checked against their sha256.</i></p>"


def files_html(files: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(f.get('path', '')))}</td><td style='text-align:right'>{_size(f.get('length'))}</td>"
        f"<td>{html.escape(str(f.get('mime_type') or ''))}</td><td>{html.escape(str(f.get('data_type') or ''))}</td></tr>"
        for f in files
    )
    return (
        "<table class='mh-files' style='font-size:12px;border-collapse:collapse'>"
        "<tr><th align=left>path</th><th>size</th><th align=left>type</th><th align=left>data</th></tr>"
        f"{rows}</table>"
    )


class RecordView(w.VBox):
    """Shows one record or dataset of a hub.

    ``loaded`` is the last object read through the catalog; ``on_load(cb)``:
    ``cb(path, obj)`` when a file was loaded (the search panel hands it to the notebook);
    ``on_close(cb)``: ``cb()`` when its close button is clicked.  A record's view links to
    the servables dashboard with that record as the input (``servables.ipynb?record=ID``).
    """

    def __init__(self, hub: HubAPI) -> None:
        self.hub = hub
        self.document: dict[str, Any] = {}
        self.source_id: str | None = None
        self.files: list[dict[str, Any]] = []
        self.loaded: Any = None
        self._loaded_cbs: list[Callable[[str, Any], None]] = []
        self._close_cbs: list[Callable[[], None]] = []
        self.close_button = w.Button(icon="times", tooltip="close", layout=w.Layout(width="36px"))
        self.close_button.add_class("mh-detail-close")
        self.close_button.on_click(lambda _b: [cb() for cb in self._close_cbs])
        self.run_link = w.HTML()
        self.run_link.add_class("mh-run-link")
        self.title = w.HTML("<i style='color:#888'>Open a hit (its id) to see it here.</i>")
        self.title.add_class("mh-detail-title")
        self.tree = w.HTML()
        self.tree.add_class("mh-detail-tree")
        self.file_list = w.HTML()
        self.file_choice = w.Dropdown(options=[], description="file", layout=w.Layout(width="380px"))
        self.download_button = w.Button(description="Download file", icon="download")
        self.load_button = w.Button(description="Load into notebook", icon="table")
        self.download_button.on_click(lambda _b: self.download_file())
        self.load_button.on_click(lambda _b: self.load_file())
        self.link = w.HTML()
        self.link.add_class("mh-file-link")
        self.status = Status("mh-detail-status")
        self.picture = w.Image(format="png", layout=w.Layout(max_width="380px"))
        self.picture.add_class("mh-structure")
        files_box = w.VBox(
            [self.file_list, w.HBox([self.file_choice, self.download_button, self.load_button]), self.link]
        )
        self.tabs = w.Tab(children=[self.tree, files_box, self.picture])
        self.tabs.titles = ("Metadata", "Files", "Structure")
        self.tabs.layout.display = "none"
        head = w.HBox([self.title, self.close_button], layout=w.Layout(justify_content="space-between"))
        super().__init__([head, self.run_link, self.tabs, self.status])
        self.add_class("mh-detail")

    def on_load(self, cb: Callable[[str, Any], None]) -> None:
        self._loaded_cbs.append(cb)

    def on_close(self, cb: Callable[[], None]) -> None:
        self._close_cbs.append(cb)

    def show(self, hit: Any) -> None:
        """Show a search hit (its full document is read again from the hub)."""
        with self.status.guard():
            self.status.info("")
            self.link.value = ""
            if hit.kind == "dataset":
                sid = (hit.document.get("mdf") or {}).get("source_id") or hit.id
                ds = self.hub.dataset(sid)
                doc, files = ds.metadata, ds.files()
                titles = (doc.get("dc") or {}).get("titles") or [{}]
                label = f"dataset <b>{html.escape(sid)}</b>: {html.escape(str(titles[0].get('title', '')))}"
            else:
                doc = self.hub.record(hit.id)
                sid = (doc.get("mdf") or {}).get("source_id")
                files = list(doc.get("files") or [])
                material = (doc.get("material") or {}).get("composition") or ""
                label = (
                    f"record <b>{html.escape(hit.id)}</b> {html.escape(material)} in {html.escape(str(sid))}"
                )
            self.document, self.source_id, self.files = doc, sid, files
            self.run_link.value = (
                ""
                if hit.kind == "dataset"
                else f"<a class='mh-run-on-record' href='servables.ipynb?record={quote(hit.id)}' "
                "target='_blank'>Run a servable on this record</a>"
            )
            self.title.value = label
            self.tree.value = tree_html(doc)
            self.file_list.value = files_html(files) + (
                BY_REFERENCE if (doc.get("mdf") or {}).get("by_reference") else ""
            )
            self.file_choice.options = [f["path"] for f in files]
            self.file_choice.value = files[0]["path"] if files else None
            png = structure_png(doc) if has_structure(doc) else None
            self.picture.value = png or b""
            self.picture.layout.display = None if png else "none"
            self.tabs.titles = ("Metadata", f"Files ({len(files)})", "Structure" if png else "(no structure)")
            self.tabs.layout.display = None
            self.tabs.selected_index = 2 if png else 0

    def download_file(self, path: str | None = None) -> bytes | None:
        """Make a browser download link for one file of the shown hit; returns its bytes."""
        path = path or self.file_choice.value
        if not path or not self.source_id:
            return None
        with self.status.guard():
            entry = next((f for f in self.files if f["path"] == path), {})
            if (entry.get("length") or 0) > MAX_BROWSER_DOWNLOAD:
                self.status.info(
                    f"{path} is {_size(entry['length'])}: too big for the page; use the "
                    "'Download selection' action (it writes files on the server)"
                )
                return None
            with self.hub.open(self.source_id, path) as f:
                data: bytes = f.read()
            name = path.rsplit("/", 1)[-1]
            uri = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
            self.link.value = (
                f"<a download='{html.escape(name, quote=True)}' href='{uri}' class='mh-download-link'>"
                f"save {html.escape(name)} ({_size(len(data))})</a>"
            )
            return data
        return None

    def load_file(self, path: str | None = None) -> Any:
        """Read one file through the hub's Intake catalog (pandas / xarray / ...)."""
        path = path or self.file_choice.value
        if not path or not self.source_id:
            return None
        with self.status.guard():
            sid = self.source_id
            cat = self.hub.catalog(f'mdf.source_id:"{sid}"')
            if sid not in cat:
                raise LookupError(f"{sid} is not in the hub's catalog for this query")
            files = cat[sid].read()
            if path not in files:
                readable = ", ".join(list(files)[:12])
                self.status.error(
                    f"no Intake reader for {path}; entries of {sid} that can be read: {readable}"
                )
                return None
            self.loaded = files[path].read()
            for cb in self._loaded_cbs:
                cb(path, self.loaded)
            return self.loaded
        return None
