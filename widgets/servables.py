"""``ServablePanel(hub)``: find, inspect and run servables (DLHub in a notebook or a dashboard).

Find servables with the query language of data; read one's description and input,
output and parameter schemas in words; build its input from a form generated from the
schema (filled with the servable's example), an uploaded file, or search hits (each record
made into an input item the way the servable's ``input_from_record`` says, else a field
of the hits); run it synchronously or as a task whose status updates live; see the
outputs (with the units their schema declares, energies switchable; arrays as images and
plots, tables as tables); or run it as a batch over every hit of a search.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Mapping
from typing import Any

import ipywidgets as w
from hub.widgets.feedback import Status
from hub.widgets.inputs import coerce, value_from_file, values_from_hits
from hub.widgets.namespace import push
from hub.widgets.outputs import batch_table, render
from hub.widgets.pipeline_graph import pipeline_svg
from hub.widgets.schema_form import SchemaForm
from hub.widgets.type_words import TIMES, spec_text
from hub.widgets.units import UnitTable, unit_columns

from hub.api import HubAPI
from hub.servables.record_input import RecordInput

SOURCES = ("Form", "File", "Search result")
#: How often a task's status is read while it runs.
POLL_S = 0.2
#: Most hits a batch takes from a search.
MAX_BATCH = 500


def _method(document: Mapping[str, Any]) -> dict[str, Any]:
    methods = (document.get("servable") or {}).get("methods") or {}
    return dict(methods.get("run") or next(iter(methods.values()), {}))


def describe_html(document: Mapping[str, Any]) -> str:
    """Title, authors, description, type and the input/output/parameter schemas of a servable."""
    dc = document.get("datacite") or {}
    dl = document.get("dlhub") or {}
    sv = document.get("servable") or {}
    title = ((dc.get("titles") or [{}])[0]).get("title", dl.get("name", ""))
    authors = "; ".join(c.get("name", "") for c in dc.get("creators") or [])
    desc = " ".join(d.get("description", "") for d in dc.get("descriptions") or [])
    m = _method(document)
    params = m.get("parameters") or {}
    rows = [("input", m.get("input") or {}), ("output", m.get("output") or {})] + [
        (f"parameter {k}", v) for k, v in params.items()
    ]
    schema = "".join(
        f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(spec_text(v))}"
        f"{' = ' + html.escape(repr(v.get('default'))) if v.get('default') is not None else ''}"
        f"{' — ' + html.escape(v['description']) if v.get('description') else ''}</td></tr>"
        for k, v in rows
    )
    props = (m.get("input") or {}).get("properties") or {}
    if props:
        schema += "".join(
            f"<tr><td>&nbsp;&nbsp;input.{html.escape(k)}</td><td>{html.escape(spec_text(v))}"
            f"{' — ' + html.escape(v['description']) if v.get('description') else ''}</td></tr>"
            for k, v in props.items()
        )
    dois = [
        r.get("relatedIdentifier") for r in dc.get("relatedIdentifiers") or [] if r.get("relatedIdentifier")
    ]
    return (
        f"<div class='mh-servable-info'><h4 style='margin:4px 0'>{html.escape(str(title))} "
        f"<code>{html.escape(str(dl.get('id') or dl.get('name', '')))}@{dl.get('version', '')}</code></h4>"
        f"<div style='font-size:12px;color:#555'>{html.escape(authors)} &middot; {html.escape(str(sv.get('type', '')))}"
        f" {html.escape(str(sv.get('model_summary') or sv.get('model_type') or ''))}"
        f"{' &middot; status ' + html.escape(str(dl.get('status'))) if dl.get('status') else ''}</div>"
        f"<p style='font-size:13px'>{html.escape(desc)}</p>"
        + (
            f"<div style='font-size:12px'>related: {html.escape(', '.join(map(str, dois)))}</div>"
            if dois
            else ""
        )
        + f"<table class='mh-schema' style='font-size:12px'>{schema}</table></div>"
    )


#: A task's status in words.
TASK_WORDS = {
    "pending": "waiting to start",
    "running": "running",
    "completed": "finished",
    "failed": "failed",
}


def result_words(out: Any) -> str:
    """What came back, in words: ``1 result``, ``an array of 4 by 32 by 32 by 1 values`` (with multiplication signs)."""
    if hasattr(out, "shape") and getattr(out, "ndim", 0) > 0:
        return f"an array of {f' {TIMES} '.join(map(str, out.shape))} values"
    if isinstance(out, list | tuple):
        return f"{len(out)} result{'s' if len(out) != 1 else ''}"
    if isinstance(out, Mapping):
        return f"a result with {', '.join(map(str, list(out)[:6]))}"
    return "1 result"


class ServablePanel(w.VBox):
    """Find and run the servables of ``hub``.

    Parameters
    ----------
    hub
        A hub (:class:`~hub.api.HubAPI`: embedded or remote, only its public API is used).
    query
        The servable search to start with.
    name
        The variable the last outputs are bound to in the notebook.
    """

    def __init__(self, hub: HubAPI, query: str = "*", *, name: str = "outputs") -> None:
        self.hub = hub
        self.name = name
        self.servable: Any = None
        self.document: dict[str, Any] = {}
        self.outputs: Any = None
        self.task: Any = None
        self.task_states: list[str] = []
        self._poller: threading.Thread | None = None
        self.batch: Any = None

        self.query = w.Text(
            value="" if query == "*" else query,
            placeholder="servable.type:keras, dlhub.domains:materials, ...",
        )
        self.query.add_class("mh-servable-query")
        self.find_button = w.Button(description="Find", icon="search", button_style="primary")
        self.find_button.on_click(lambda _b: self.find())
        self.query.continuous_update = False
        self.query.observe(lambda _ch: self.find(), names="value")
        self.choice = w.Select(options=[], rows=6, layout=w.Layout(width="560px"))
        self.choice.add_class("mh-servable-list")
        self.choice.observe(lambda ch: self.select(ch["new"]) if ch["new"] else None, names="value")
        self.info = w.HTML()
        #: A pipeline's steps as a graph (empty for other servables).
        self.graph = w.HTML()

        self.source = w.ToggleButtons(options=list(SOURCES), value="Form")
        self.source.observe(lambda _ch: self._show_source(), names="value")
        self.form_box = w.VBox()
        self.file = w.FileUpload(multiple=False, description="Input file")
        self.file_box = w.VBox([w.HTML("A .npy, .npz, .json, .csv or text file"), self.file])
        self.hit_query = w.Text(
            placeholder="a search over records, e.g. material.elements:O", description="Search"
        )
        self.hit_field = w.Combobox(
            options=sorted(hub.fields()),
            placeholder="field, e.g. material.composition",
            description="Field",
            ensure_option=False,
        )
        self.hit_limit = w.BoundedIntText(value=20, min=1, max=MAX_BATCH, description="Hits")
        #: How the chosen servable makes an input item of a record (None: name a field).
        self.record_input: RecordInput | None = None
        self.record_hint = w.HTML()
        self.record_hint.add_class("mh-record-hint")
        self.search_box = w.VBox([self.record_hint, self.hit_query, self.hit_field, self.hit_limit])
        self.asynchronous = w.Checkbox(value=False, description="run as a task (asynchronous)", indent=False)
        self.run_button = w.Button(description="Run", icon="play", button_style="success")
        self.run_button.add_class("mh-run")
        self.run_button.on_click(lambda _b: self.run())
        self.batch_button = w.Button(description="Run batch over search", icon="list")
        self.batch_button.on_click(lambda _b: self.run_batch())
        self.task_status = w.HTML()
        self.task_status.add_class("mh-task-status")
        self.status = Status()
        self.output_box = w.VBox()
        self.output_box.add_class("mh-outputs")
        self.inputs_box = w.VBox([self.source, self.form_box])
        self.run_box = w.VBox(
            [
                self.inputs_box,
                w.HBox([self.run_button, self.asynchronous, self.batch_button]),
                self.task_status,
            ],
            layout=w.Layout(display="none"),
        )
        super().__init__(
            [
                w.HTML("<h3 style='margin:4px 0'>Servables</h3>"),
                w.HBox([self.query, self.find_button]),
                self.choice,
                self.info,
                self.graph,
                self.run_box,
                self.status,
                self.output_box,
            ]
        )
        self.add_class("mh-servable-panel")
        self.form: SchemaForm | None = None
        self.find()

    # -- finding -----------------------------------------------------------------------

    def find(self, query: str | None = None) -> list[str]:
        """Search servables; lists them and selects the first."""
        if query is not None:
            self.query.value = query
        with self.status.guard():
            res = self.hub.servables(self.query.value.strip() or "*", limit=50)
            options = []
            for h in res.hits:
                dc = h.document.get("datacite") or {}
                title = ((dc.get("titles") or [{}])[0]).get("title", "")
                options.append((f"{h.id} — {title}" if title else h.id, h.id))
            self.choice.options = options
            self.status.info(f"{res.total} servable{'s' if res.total != 1 else ''}")
            if options:
                self.choice.value = options[0][1]
            else:
                self.run_box.layout.display = "none"
                self.info.value = ""
            return [v for _, v in options]
        return []

    def select(self, name: str) -> None:
        """Show servable ``name`` and build its input form; what the previous one left
        (messages, outputs, a chosen file, a task) is cleared."""
        self.status.info("")
        self.output_box.children = ()
        self.task_status.value = ""
        self.outputs = self.task = self.batch = None
        self.file.value = ()
        with self.status.guard():
            self.servable = self.hub.servable(name)
            self.document = dict(self.servable.document)
            self.info.value = describe_html(self.document)
            self.graph.value = pipeline_svg(self.document)
            m = _method(self.document)
            examples = m.get("examples") or []
            self.form = SchemaForm(
                m.get("input") or {}, m.get("parameters") or {}, examples[0] if examples else None
            )
            self._use_record_input(m.get("input_from_record"))
            self._show_source()
            self.run_box.layout.display = None

    def _use_record_input(self, block: Mapping[str, Any] | None) -> None:
        self.record_input = RecordInput.model_validate(block) if block else None
        ri = self.record_input
        self.hit_field.layout.display = "none" if ri else None
        if ri is None:
            self.record_hint.value = ""
            return
        parts = ", ".join(
            f"{k or 'the input'} from {'its ' + (ri.file or '') + ' file' if v.startswith('file:') else v}"
            for k, v in ri.parts.items()
        )
        self.record_hint.value = (
            f"<div style='font-size:12px;color:#444'>Each record{' of ' + html.escape(ri.source_name) if ri.source_name else ''}"
            f" becomes one input item: {html.escape(parts)}.</div>"
        )
        if not self.hit_query.value.strip() or not self.hit_query.value.startswith("mdf.record_id:"):
            self.hit_query.value = ri.query()

    def use_record(self, record_id: str) -> None:
        """Take the input from one record (``servables.ipynb?record=ID``): the Search result mode
        on that record."""
        self.hit_query.value = f'mdf.record_id:"{record_id}"'
        self.source.value = "Search result"

    def _show_source(self) -> None:
        parts: list[w.Widget] = [self.source]
        if self.source.value == "Form" and self.form is not None:
            parts.append(self.form)
        elif self.source.value == "File":
            parts.append(self.file_box)
            if self.form is not None and self.form.parameter_fields:
                parts += [w.HTML("<b>Parameters</b>"), *self.form.parameter_fields.values()]
        else:
            parts.append(self.search_box)
            if self.form is not None and self.form.parameter_fields:
                parts += [w.HTML("<b>Parameters</b>"), *self.form.parameter_fields.values()]
        self.inputs_box.children = parts
        self.batch_button.layout.display = None if self.source.value == "Search result" else "none"

    # -- inputs ------------------------------------------------------------------------

    @property
    def name_of_servable(self) -> str:
        dl = self.document.get("dlhub") or {}
        return str(dl.get("id") or self.servable.id)

    def _input_spec(self) -> dict[str, Any]:
        return dict(_method(self.document).get("input") or {})

    def hits(self) -> list[Any]:
        q = self.hit_query.value.strip() or "*"
        return list(self.hub.search(q, limit=int(self.hit_limit.value), kinds=["record"]).hits)

    def inputs(self) -> tuple[Any, dict[str, Any]]:
        """The input and parameters from the chosen source."""
        if self.form is None:
            raise ValueError("choose a servable first")
        params = self.form.parameters()
        if self.source.value == "Form":
            return self.form.inputs(), params
        spec = self._input_spec()
        if self.source.value == "File":
            files = list(self.file.value)
            if not files:
                raise ValueError("choose an input file first")
            f = files[0]
            return value_from_file(f["name"], bytes(f["content"]), spec), params
        _ids, values = self.hit_values()
        return coerce(values, spec), params

    def hit_values(self) -> tuple[list[str], list[Any]]:
        """(hit ids, one input item per hit): by the servable's ``input_from_record``, else the
        named field of each hit."""
        hits = self.hits()
        if self.record_input is not None:
            if not hits:
                raise ValueError(f"no record matches {self.hit_query.value or '*'!r}")

            def read(source_id: str, path: str) -> bytes:
                with self.hub.open(source_id, path) as f:
                    return bytes(f.read())

            return [h.id for h in hits], [self.record_input.item(h.document, read) for h in hits]
        field = self.hit_field.value.strip()
        if not field:
            raise ValueError("name the field of the hits that is the input (e.g. material.composition)")
        ids, values = values_from_hits(hits, field)
        if not values:
            raise ValueError(f"no hit of {self.hit_query.value or '*'!r} has {field}")
        return ids, values

    # -- running -----------------------------------------------------------------------

    def run(self) -> Any:
        """Run on the chosen input: the outputs (synchronous), or a task followed live."""
        if self.servable is None:
            self.status.error("choose a servable first")
            return None
        with self.status.guard():
            inputs, params = self.inputs()
            name = self.name_of_servable
            if self.asynchronous.value:
                self.task = self.hub.run(name, inputs, params or None, asynchronous=True)
                self.task_states = []
                self._show_task(self.task)
                self._poller = threading.Thread(target=self._follow, args=(self.task.id,), daemon=True)
                self._poller.start()
                return self.task
            self.task_status.value = "<span>Running…</span>"
            t0 = time.perf_counter()
            out = self.hub.run(name, inputs, params or None)
            ms = (time.perf_counter() - t0) * 1e3
            self.task_status.value = (
                f"<span class='mh-run-done'>Ran {html.escape(name)}: done in {ms:,.0f} ms, "
                f"{html.escape(result_words(out))}</span>"
            )
            self._show_outputs(out)
            return out
        return None

    def _follow(self, task_id: str) -> None:
        """Read the task's status until it ends (in a thread: the page stays live)."""
        try:
            while True:
                task = self.hub.task(task_id)
                self._show_task(task)
                if task.done:
                    break
                time.sleep(POLL_S)
            if task.status == "completed":
                self._show_outputs(task.result)
            else:
                err = task.error or {}
                self.status.error(
                    f"task {task.id} failed ({err.get('kind', 'error')}): {err.get('message', '')}"
                )
        except Exception as exc:
            self.status.error(exc)

    def wait(self, timeout: float = 120.0) -> Any:
        """Block until the task being followed has been shown; returns its outputs."""
        if self._poller is not None:
            self._poller.join(timeout)
        return self.outputs

    def _show_task(self, task: Any) -> None:
        if not self.task_states or self.task_states[-1] != task.status:
            self.task_states.append(task.status)
        timing = task.timings or {}
        took = f" in {timing['total_ms']:,.0f} ms" if timing.get("total_ms") is not None else ""
        words = TASK_WORDS.get(str(task.status), str(task.status))
        self.task_status.value = (
            f"<span class='mh-task mh-task-{task.status}'>Task <code>{html.escape(task.id)}</code>: "
            f"<b>{html.escape(words)}</b>{took if task.done else ''}</span>"
        )

    def _show_outputs(self, out: Any) -> None:
        self.outputs = out
        bound = push(self.name, out)
        table = unit_columns(out, _method(self.document).get("output") or {})
        shown = [UnitTable(*table)] if table is not None else render(out)
        self.output_box.children = [w.HTML("<b>Outputs</b>"), *shown]
        self.status.ok(f"{result_words(out)}" + (f"; in the notebook as {self.name}" if bound else ""))

    def run_batch(self) -> Any:
        """Run once per hit of the search (one batch through the hub): a table of hit, input, output."""
        if self.servable is None or self.form is None:
            self.status.error("choose a servable first")
            return None
        with self.status.guard():
            ids, values = self.hit_values()
            spec = self._input_spec()
            inputs = [coerce([v] if self.record_input else v, spec) for v in values]
            t0 = time.perf_counter()
            outs = self.hub.run(self.name_of_servable, inputs, self.form.parameters() or None, batch=True)
            ms = (time.perf_counter() - t0) * 1e3
            self.batch = batch_table(ids, values, list(outs))
            self.outputs = outs
            push(self.name, self.batch)
            self.task_status.value = (
                f"<span class='mh-run-done'>batch of {len(inputs)} done in {ms:,.0f} ms</span>"
            )
            widgets = render(self.batch, "batch")
            if len(self.batch) and self.batch["output"].map(lambda v: isinstance(v, (int, float))).all():
                from hub.widgets.plotting import bars_png

                widgets.append(
                    w.Image(
                        value=bars_png(ids, list(self.batch["output"]), title="output per hit"), format="png"
                    )
                )
            self.output_box.children = [w.HTML("<b>Batch outputs</b>"), *widgets]
            self.status.ok(f"batch over {len(inputs)} hits")
            return self.batch
        return None
