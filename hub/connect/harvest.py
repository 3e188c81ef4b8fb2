"""Harvesting an OPTIMADE provider: a submission whose source is ``optimade+https://provider/``.

It runs the steps of every submission, with the provider in place of files:

- collect: pages the provider's ``structures`` (:class:`~hub.optimade.provider.ProviderClient`:
  ``links.next``, ``page_limit`` caps, retries with backoff, the next page downloading
  while this one is handled); each entry's JSON is stored in the blob store and made a
  record (:func:`~hub.optimade.ingest.entry_record`) as its page arrives, and the
  submission's ``collect`` step keeps the harvest's ``resume`` state (the next page's
  URL, the entries so far), so a harvest that stopped (the provider kept failing, the
  process was killed) continues where it stopped on ``hub.retry(id)``;
- extract: the records of every entry (those of an earlier, interrupted run read back
  from the store); each entry's JSON is a file of the version (``entries/<id>.json``),
  which its record names;
- merge: a harvest of the same provider and filter as the dataset's latest version asks
  only for the entries changed since that version's newest ``last_modified``
  (``last_modified >= ...``; a provider that refuses it is harvested in full) and puts
  them in place of their previous records;
- validate, curate, dispatch: as for any submission; but when nothing changed (the
  same files and metadata as the latest version), no version is made, and the
  submission says so (its ``source_id`` is the latest version).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
from typing import Any
from urllib.parse import quote

from hub.access import PUBLISHED, Kind
from hub.access.names import Names
from hub.connect.origin import logical_origin
from hub.connect.pipeline import Pipeline, SubmissionRun
from hub.connect.request import SubmissionRequest
from hub.connect.submission import Submission, new_steps
from hub.connect.versions import FILE_FIELDS, Draft
from hub.db.models import DatasetRow
from hub.exceptions import SourceError, ValidationError
from hub.optimade.ingest import entry_record
from hub.optimade.provider import DEFAULT_BACKOFF, PAGE_LIMIT, Backoff, ProviderClient, provider_url
from hub.records.dataset import source_id_of
from hub.records.validation import validate_record

#: The data type of a harvested entry's file.
ENTRY_TYPE = "OPTIMADE structure"
#: What a harvest made of one entry: its validated record (None when invalid) and its file.
Mapped = tuple[dict[str, Any] | None, dict[str, Any]]


def since_filter(query: str | None, since: str | None) -> str | None:
    """The filter of an incremental harvest: ``query`` and ``last_modified >= since``."""
    if since is None:
        return query
    changed = f'last_modified >= "{since}"'
    return f"({query}) AND {changed}" if query else changed


def newest(records: list[dict[str, Any]]) -> str | None:
    """The newest ``origin.last_modified`` of harvested records, in RFC 3339 (UTC, whole seconds).

    None when any record lacks it (the next harvest is then a full one).
    """
    stamps = []
    for r in records:
        value = (r.get("origin") or {}).get("last_modified")
        if not isinstance(value, str):
            return None
        stamp = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        stamps.append(stamp if stamp.tzinfo else stamp.replace(tzinfo=_dt.UTC))
    if not stamps:
        return None
    return max(stamps).astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Harvest:
    """Runs harvest submissions with a pipeline's catalog, store, principal, versions and hooks.

    Parameters
    ----------
    pipeline
        What any submission of the same Connect runs with.
    backoff, page_limit
        How the provider is asked (:class:`~hub.optimade.provider.ProviderClient`).
    """

    def __init__(
        self, pipeline: Pipeline, *, backoff: Backoff = DEFAULT_BACKOFF, page_limit: int = PAGE_LIMIT
    ) -> None:
        self.p = pipeline
        self.backoff = backoff
        self.page_limit = page_limit

    def run(self, sub_id: str, source: str, request: SubmissionRequest) -> Submission:
        """Run harvest submission ``sub_id`` (recorded by :meth:`Pipeline.create`) to its end.

        Fails as :meth:`Pipeline.run` does; the ``resume`` state saved so far is kept.
        """
        return self.p.finish(_HarvestRun(self, sub_id, source, request))


class _HarvestRun(SubmissionRun):
    """One run of one harvest submission (its steps' saved state kept: a resumed harvest goes on)."""

    def __init__(self, harvest: Harvest, sub_id: str, source: str, request: SubmissionRequest) -> None:
        row = harvest.p.catalog.submission_row(sub_id)
        super().__init__(
            harvest.p, sub_id, source, request, new_steps(row.steps if row is not None else None)
        )
        self.h = harvest

    # -- the steps ---------------------------------------------------------------------

    def execute(self) -> None:
        self.save(pid=os.getpid(), host=socket.gethostname(), message=None)
        req = self.request
        Names(self.p.catalog).claim(self.p.principal, Kind.DATASET, req.name)
        base = provider_url(self.source)
        previous = self.previous(base)
        prev_records = self.p.catalog.records(self.p.principal, previous.source_id) if previous else []
        since = newest(prev_records) if previous else None

        client = ProviderClient(base, backoff=self.h.backoff, page_limit=self.h.page_limit)
        with client, self.step("collect") as s:
            try:
                mapped = self.collect(client, since_filter(req.filter, since))
            except SourceError as exc:
                if since is None or "refused the query" not in exc.message:
                    raise
                since = None  # the provider does not filter on last_modified: harvest it all
                mapped = self.collect(client, req.filter)
            state = s["resume"]
            stored = [sha for page in state["entries"] for sha in page]
            s["detail"] = f"{len(stored)} entries in {len(state['entries'])} pages from {base}" + (
                f" (changed since {since})" if since else ""
            )

        with self.step("extract") as s:
            harvested: dict[str, Mapped] = {}
            for sha in stored:
                entry_id, record, file = mapped.get(sha) or self.entry(
                    json.loads(self.p.store.get_bytes(sha)), state["structures"]
                )
                harvested[entry_id] = (record, file)
            s["detail"] = f"{len(harvested)} records ({len(stored) - len(mapped)} from an earlier run)"

        with self.step("merge") as s:
            kept = {}
            if since is not None and previous is not None:
                kept = self.kept(previous, prev_records, harvested)
                s["detail"] = (
                    f"{len(harvested)} harvested, {len(kept)} unchanged kept from {previous.source_id}"
                )
            merged = {**kept, **harvested}
            s["detail"] = s["detail"] or f"{len(merged)} records"

        with self.step("validate") as s:
            version = self.p.catalog.next_version(req.name)
            ids = sorted(merged)
            files = [merged[i][1] for i in ids]
            draft = Draft(
                document=self.dataset_document(files, version),
                files=files,
                records=numbered([r for i in ids if (r := merged[i][0]) is not None], version),
                owner=self.p.principal.owner_id,
            )
            s["detail"] = f"{len(draft.records)} valid records"

        if previous is not None and self.unchanged(previous, draft):
            for step in self.steps:
                if step["status"] == "pending":
                    step["status"] = "skipped"
            self.status = "complete"
            self.p.catalog.update_submission(
                self.id,
                status="complete",
                steps=self.steps,
                errors=self.errors,
                source_id=previous.source_id,
                message=f"nothing changed at the provider since {previous.source_id}: no new version",
            )
            return

        self.publish(draft)

    # -- collect -----------------------------------------------------------------------

    def collect(
        self, client: ProviderClient, query: str | None
    ) -> dict[str, tuple[str, dict[str, Any] | None, dict[str, Any]]]:
        """Page the provider from where the saved ``resume`` state stopped, mapping each entry as it arrives.

        Each entry's JSON is stored and made a validated record while the next page downloads;
        the state (``entries``: the stored entries' sha256, page by page; ``next``: the
        next page's URL) is saved after each page, so a run that stops continues from the
        next page.  The state is kept when it was made for the same query.

        Returns
        -------
        dict
            What :meth:`entry` made of each entry this run stored, by the entry's sha256.
        """
        s = next(x for x in self.steps if x["name"] == "collect")
        state = s.get("resume")
        if not isinstance(state, dict) or state.get("query") != query or "entries" not in state:
            state = {"query": query, "structures": None, "entries": [], "next": None, "done": False}
        s["resume"] = state
        mapped: dict[str, tuple[str, dict[str, Any] | None, dict[str, Any]]] = {}
        if state["entries"] and state["next"] is None:  # stopped after the last page was stored
            state["done"] = True
        for page in [] if state["done"] else client.pages(query, start=state["next"]):
            if state["structures"] is None:
                state["structures"] = page.endpoint
            shas = []
            for entry in page.entries:
                made = self.entry(entry, state["structures"])
                mapped[made[2]["sha256"]] = made
                shas.append(made[2]["sha256"])
            state["entries"].append(shas)
            state["next"] = page.next
            s["detail"] = f"{len(state['entries'])} pages"
            self.save()
        state["done"] = True
        self.save()
        return mapped

    # -- extract and merge ------------------------------------------------------------------

    def entry(
        self, entry: dict[str, Any], structures: str
    ) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        """One entry: its id, its validated record (None when invalid) and the version's file holding its JSON."""
        entry_id = str(entry.get("id"))
        data = _canonical(entry)
        sha = self.p.store.put_bytes(data)
        name = quote(entry_id, safe="") + ".json"
        file = {
            "path": f"entries/{name}",
            "filename": name,
            "sha256": sha,
            "length": len(data),
            "mime_type": "application/json",
            "data_type": ENTRY_TYPE,
        }
        body = entry_record(
            entry,
            provider=provider_url(self.source),
            query=self.request.filter,
            url=f"{structures}/{quote(entry_id, safe='')}",
        )
        body["files"] = [file]
        return entry_id, self.record(body), file

    def previous(self, base: str) -> DatasetRow | None:
        """The dataset's latest published version, when it was harvested from ``base`` with the same filter."""
        rows = [
            r
            for r in self.p.catalog.datasets(self.p.principal, source_name=self.request.name)
            if r.status == PUBLISHED
        ]
        if not rows:
            return None
        latest = max(rows, key=lambda r: r.version)
        if (latest.document.get("data") or {}).get("origin") != logical_origin(self.source):
            return None
        sub = self.p.catalog.submission_row(latest.submission_id) if latest.submission_id else None
        same_query = sub is not None and sub.options.get("filter") == self.request.filter
        return latest if same_query else None

    def kept(
        self,
        previous: DatasetRow,
        records: list[dict[str, Any]],
        harvested: dict[str, Mapped],
    ) -> dict[str, Mapped]:
        """The records (and files) of ``previous`` whose entries did not change."""
        files = {
            f.path: {k: getattr(f, k) for k in FILE_FIELDS}
            for f in self.p.catalog.files(self.p.principal, previous.source_id)
        }
        out: dict[str, Mapped] = {}
        for r in records:
            entry_id = (r.get("origin") or {}).get("entry_id")
            paths = [f["path"] for f in r.get("files", [])]
            if not isinstance(entry_id, str) or entry_id in harvested or not paths or paths[0] not in files:
                continue
            out[entry_id] = (self.record({k: v for k, v in r.items() if k != "mdf"}), files[paths[0]])
        return out

    # -- validate ----------------------------------------------------------------------

    def record(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """``body`` validated as a record of the dataset (numbered later: :func:`numbered`); None when invalid.

        The ``mdf`` block is provisional (the version and number are stamped when the
        version is made, as :func:`~hub.connect.versions.stamp_record` does); the
        provider's part, the body, is what is checked.
        """
        req = self.request
        sid = source_id_of(req.name, 1)
        doc = {
            "mdf": {
                "source_name": req.name,
                "source_id": sid,
                "version": 1,
                "record_id": f"{sid}.1",
                "scroll_id": 1,
                "visible_to": req.visible_to,
                "extractors": ["optimade"],
            },
            **body,
        }
        try:
            return validate_record(doc)
        except ValidationError as exc:
            self.errors.append(
                {
                    "path": body["files"][0]["path"],
                    "step": "validate",
                    "extractor": "optimade",
                    "error": "ValidationError",
                    "message": exc.message,
                }
            )
            return None

    def unchanged(self, previous: DatasetRow, draft: Draft) -> bool:
        """Whether ``draft`` holds what ``previous`` holds: the same files and metadata."""
        old, new = previous.document, draft.document
        return (
            old["data"].get("root_hash") == new["data"]["root_hash"]
            and old["dc"] == new["dc"]
            and old.get("custom", {}) == new.get("custom", {})
            and all(
                old["mdf"].get(k) == new["mdf"].get(k)
                for k in ("visible_to", "tags", "organizations", "status")
            )
        )


def numbered(records: list[dict[str, Any]], version: int) -> list[dict[str, Any]]:
    """Validated ``records`` (:meth:`_HarvestRun.record`) numbered 1, 2, ... as records of ``version``."""
    out = []
    for n, r in enumerate(records, start=1):
        sid = source_id_of(r["mdf"]["source_name"], version)
        mdf = {**r["mdf"], "source_id": sid, "version": version, "record_id": f"{sid}.{n}", "scroll_id": n}
        out.append({**r, "mdf": mdf})
    return out


def _canonical(value: Any) -> bytes:
    """``value`` as canonical JSON bytes (sorted keys, no spaces): equal entries make equal blobs."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
