"""Harvesting an OPTIMADE provider: a submission whose source is ``optimade+https://provider/``.

It runs the steps of every submission, with the provider in place of files:

- collect: pages the provider's ``structures`` (:class:`~hub.optimade.provider.ProviderClient`:
  ``links.next``, ``page_limit`` caps, retries with backoff); each page is stored in the
  blob store as it arrives and the submission's ``collect`` step keeps the harvest's
  ``resume`` state (the next page's URL, the pages so far), so a harvest that stopped
  (the provider kept failing, the process was killed) continues where it stopped on
  ``hub.retry(id)``;
- extract: each entry becomes a record (:func:`~hub.optimade.ingest.entry_record`) and
  its JSON a file of the version (``entries/<id>.json``), which the record names;
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
                pages, structures = self.collect(client, since_filter(req.filter, since))
            except SourceError as exc:
                if since is None or "refused the query" not in exc.message:
                    raise
                since = None  # the provider does not filter on last_modified: harvest it all
                pages, structures = self.collect(client, req.filter)
            entries = [e for sha in pages for e in json.loads(self.p.store.get_bytes(sha))]
            s["detail"] = f"{len(entries)} entries in {len(pages)} pages from {base}" + (
                f" (changed since {since})" if since else ""
            )

        with self.step("extract") as s:
            harvested: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
            for entry in entries:
                body, file = self.entry(entry, structures)
                harvested[body["origin"]["entry_id"]] = (body, file)
            s["detail"] = f"{len(harvested)} records"

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
                records=self.records([merged[i][0] for i in ids], version),
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

    def collect(self, client: ProviderClient, query: str | None) -> tuple[list[str], str]:
        """Page the provider from where the saved ``resume`` state stopped; the pages' blobs and the endpoint.

        The state is kept when it was made for the same query; after each page it is
        saved, so a run that stops continues from the next page.
        """
        s = next(x for x in self.steps if x["name"] == "collect")
        state = s.get("resume")
        if not isinstance(state, dict) or state.get("query") != query:
            state = {
                "query": query,
                "structures": client.structures_url(),
                "pages": [],
                "next": None,
                "done": False,
            }
        s["resume"] = state
        if not state["done"]:
            start = state["next"]
            if state["pages"] and start is None:  # stopped after the last page was stored
                state["done"] = True
            for page in [] if state["done"] else client.pages(query, start=start):
                state["pages"].append(self.p.store.put_bytes(_canonical(page.entries)))
                state["next"] = page.next
                s["detail"] = f"{sum(1 for _ in state['pages'])} pages"
                self.save()
            state["done"] = True
            self.save()
        return list(state["pages"]), str(state["structures"])

    # -- extract and merge ------------------------------------------------------------------

    def entry(self, entry: dict[str, Any], structures: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The record body of one entry, and the version's file holding the entry's JSON."""
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
        return body, file

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
        harvested: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    ) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """The records (and files) of ``previous`` whose entries did not change."""
        files = {
            f.path: {k: getattr(f, k) for k in FILE_FIELDS}
            for f in self.p.catalog.files(self.p.principal, previous.source_id)
        }
        out: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for r in records:
            entry_id = (r.get("origin") or {}).get("entry_id")
            paths = [f["path"] for f in r.get("files", [])]
            if not isinstance(entry_id, str) or entry_id in harvested or not paths or paths[0] not in files:
                continue
            out[entry_id] = ({k: v for k, v in r.items() if k != "mdf"}, files[paths[0]])
        return out

    # -- validate ----------------------------------------------------------------------

    def records(self, bodies: list[dict[str, Any]], version: int) -> list[dict[str, Any]]:
        req = self.request
        sid = source_id_of(req.name, version)
        out: list[dict[str, Any]] = []
        for body in bodies:
            n = len(out) + 1
            doc = {
                "mdf": {
                    "source_name": req.name,
                    "source_id": sid,
                    "version": version,
                    "record_id": f"{sid}.{n}",
                    "scroll_id": n,
                    "visible_to": req.visible_to,
                    "extractors": ["optimade"],
                },
                **body,
            }
            try:
                out.append(validate_record(doc))
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
        return out

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


def _canonical(value: Any) -> bytes:
    """``value`` as canonical JSON bytes (sorted keys, no spaces): equal entries make equal blobs."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
