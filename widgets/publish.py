"""``PublishPanel(hub)``: submit a dataset (MDF Connect in a notebook or a dashboard).

Choose files (uploaded from the browser) or a folder, file, archive or URL the hub can
read; fill the DataCite form; optionally map table columns to record fields; say who may
see it; publish.  A progress bar follows the Connect steps as the hub saves them, per-file
errors are listed, and the new dataset is linked.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import ipywidgets as w
from hub.widgets.datacite_form import DataCiteForm, FormError
from hub.widgets.feedback import Status
from hub.widgets.mapping_editor import MappingEditor, table_columns
from hub.widgets.step_progress import StepProgress
from hub.widgets.uploads import write_uploads

from hub.api import HubAPI


def errors_html(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(str(e.get('path', '')))}</td><td>{html.escape(str(e.get('extractor') or e.get('step') or ''))}</td>"
        f"<td><pre style='margin:0;white-space:pre-wrap'>{html.escape(str(e.get('message', '')))}</pre></td></tr>"
        for e in errors
    )
    return (
        f"<details open class='mh-file-errors'><summary><b style='color:#b42318'>{len(errors)} file"
        f"{'s' if len(errors) != 1 else ''} could not be read</b> (the rest of the dataset was published)"
        "</summary><table style='font-size:12px'><tr><th align=left>file</th><th align=left>by</th>"
        f"<th align=left>error</th></tr>{rows}</table></details>"
    )


class PublishPanel(w.VBox):
    """Submit datasets to ``hub``.

    Parameters
    ----------
    hub
        A hub (:class:`~hub.api.HubAPI`: embedded or remote, only its public API is used).
    dataset_link
        Where the link to a new dataset points: a template with ``{source_id}`` and
        ``{query}`` (URL-quoted ``mdf.source_id:...``), e.g. ``"search.ipynb?q={query}"`` in
        the dashboards; None shows the Python line that opens it.
    visible_to
        The visibility to start with (``public``, ``group:NAME``, ``user:NAME``).
    """

    def __init__(
        self, hub: HubAPI, *, dataset_link: str | None = None, visible_to: tuple[str, ...] = ("public",)
    ) -> None:
        self.hub = hub
        self.dataset_link = dataset_link
        self.submission: Any = None
        self.upload = w.FileUpload(multiple=True, description="Choose files", layout=w.Layout(width="180px"))
        self.upload.add_class("mh-upload")
        self.upload.observe(lambda _ch: self._chosen(), names="value")
        self.path = w.Text(
            placeholder="or a folder, file, archive or URL the hub can read",
            description="Path / URL",
            layout=w.Layout(width="560px"),
        )
        self.path.add_class("mh-source-path")
        self.chosen = w.HTML()
        self.form = DataCiteForm()
        self.mapping = MappingEditor(hub.fields())
        self.visibility = w.TagsInput(value=list(visible_to), allow_duplicates=False)
        self.curate = w.Checkbox(
            value=False, description="a curator accepts it before it is published", indent=False
        )
        self.submit_button = w.Button(description="Publish", button_style="success", icon="upload")
        self.submit_button.add_class("mh-publish")
        self.submit_button.on_click(lambda _b: self.publish())
        self.progress = StepProgress()
        self.errors = w.HTML()
        self.errors.add_class("mh-errors")
        self.link = w.HTML()
        self.link.add_class("mh-dataset-link")
        self.status = Status()
        super().__init__(
            [
                w.HTML("<h3 style='margin:4px 0'>Publish a dataset</h3>"),
                w.HTML("<b>Data</b>"),
                w.HBox([self.upload, self.chosen]),
                self.path,
                w.HTML("<b>Description (DataCite)</b>"),
                self.form,
                self.mapping,
                w.HTML(
                    "<b>Who may see it</b> (<code>public</code>, <code>group:NAME</code>, <code>user:NAME</code>)"
                ),
                self.visibility,
                self.curate,
                self.submit_button,
                self.progress,
                self.status,
                self.errors,
                self.link,
            ]
        )
        self.add_class("mh-publish-panel")

    # -- choosing data -----------------------------------------------------------------

    def uploaded(self) -> list[dict[str, Any]]:
        return [dict(f) for f in self.upload.value]

    def _chosen(self) -> None:
        files = self.uploaded()
        if files:
            names = ", ".join(html.escape(f["name"]) for f in files[:8]) + (" ..." if len(files) > 8 else "")
            total = sum(len(bytes(f["content"])) for f in files)
            self.chosen.value = (
                f"<span style='font-size:12px'>{len(files)} file(s), {total:,} bytes: {names}</span>"
            )
        else:
            self.chosen.value = ""
        columns = [c for f in files for c in table_columns(f["name"], bytes(f["content"]))]
        self.mapping.set_columns(columns)

    def _source(self) -> tuple[str, Path | None]:
        """What to submit, and a temporary folder to remove afterwards."""
        files = self.uploaded()
        path = self.path.value.strip()
        if files and path:
            raise FormError("choose files OR give a path/URL, not both (clear one of them)")
        if files:
            folder = write_uploads(files)
            return str(folder), folder
        if path:
            return path, None
        raise FormError("nothing to publish: choose files, or give a folder, file, archive or URL")

    # -- publishing --------------------------------------------------------------------

    def publish(self) -> Any:
        """Submit with the form's values; returns the finished submission (None if refused)."""
        self.errors.value = ""
        self.link.value = ""
        with self.status.guard():
            metadata = self.form.metadata()
            visible = [v.strip() for v in self.visibility.value if v.strip()] or ["public"]
            source, temporary = self._source()
            self.submit_button.disabled = True
            self.progress.reset()
            self.status.info(f"submitting {source if temporary is None else 'the uploaded files'} ...")
            try:
                sub = self.hub.submit(
                    source,
                    mapping=self.mapping.mapping(),
                    visible_to=visible,
                    curate=self.curate.value,
                    progress=self.progress.update,
                    **metadata,
                )
            finally:
                self.submit_button.disabled = False
                if temporary is not None:
                    shutil.rmtree(temporary, ignore_errors=True)
            self.submission = sub
            self.progress.update(sub)
            self._show(sub)
            return sub
        self.submit_button.disabled = False
        return None

    def _show(self, sub: Any) -> None:
        self.errors.value = errors_html(list(sub.errors))
        if not sub.ok:
            self.status.error(f"submission {sub.id} {sub.status}: {sub.message or 'see the steps above'}")
            return
        ds = self.hub.dataset(sub.source_id)
        note = " (waiting for a curator)" if sub.status == "pending_curation" else ""
        self.status.ok(
            f"published {sub.source_id}{note}: {ds.n_records:,} records from {ds.n_files:,} files "
            f"(submission {sub.id})"
        )
        sid = html.escape(sub.source_id)
        if self.dataset_link:
            href = self.dataset_link.format(
                source_id=quote(sub.source_id), query=quote(f'mdf.source_id:"{sub.source_id}"')
            )
            self.link.value = (
                f"<a href='{html.escape(href, quote=True)}' target='_blank' class='mh-open-dataset'>"
                f"open {sid} in search</a>"
            )
        else:
            self.link.value = f"<code>hub.dataset({sid!r})</code>"
