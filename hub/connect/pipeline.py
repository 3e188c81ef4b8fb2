"""The Connect pipeline: collect -> extract -> merge -> validate -> curate -> dispatch.

Each step's status, time and detail is saved on the submission as it goes, so
``hub.submission(id)`` (or ``matterhub status ID``) shows progress from another
process.  Nothing becomes visible until the dispatch transaction commits: blobs
are written first (content-addressed, so a retry reuses them) and the dataset,
its files and its records are inserted in one transaction
(:meth:`hub.connect.versions.VersionBuilder.publish`).  An exception or a killed
process before that commit leaves no dataset behind, and the submission can be
retried.  After the commit the dispatch hooks run (:mod:`hub.connect.dispatch`:
the search index of the embedded hub).
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from hub.access import PENDING_CURATION, PUBLISHED, Kind, Principal
from hub.access.names import Names
from hub.connect import extract as extract_step
from hub.connect.archives import ArchiveLimits
from hub.connect.collect import Collected, collect
from hub.connect.dispatch import Dispatcher
from hub.connect.joins import apply_joins, split_mapping
from hub.connect.merge import merge_parts
from hub.connect.origin import files_location, logical_origin
from hub.connect.reference import Referenced, collect_reference, reference_url
from hub.connect.request import SubmissionRequest
from hub.connect.submission import Submission, new_steps
from hub.connect.versions import FILE_FIELDS, Draft, VersionBuilder, manifest_entries
from hub.db.database import Database
from hub.db.models import SubmissionRow
from hub.exceptions import HubError, MappingError, SubmissionError, ValidationError
from hub.extractors.base import ExtractionContext
from hub.extractors.generic import file_entry
from hub.extractors.registry import available_extractors
from hub.records.dataset import source_id_of
from hub.records.validation import validate_dataset, validate_record
from hub.store.blobs import BlobStore
from hub.store.entry import StoredFile
from hub.store.manifest import root_hash

#: Library warnings kept per submission (the rest are counted, not stored).
MAX_WARNINGS = 200


def _unmapped_message(unmapped: list[dict[str, Any]]) -> str:
    """Why a strict submission's mapping failed: the first file's error, how many more, the way out."""
    first = unmapped[0]
    more = (
        f" (and {len(unmapped) - 1} more file{'s' if len(unmapped) > 2 else ''})" if len(unmapped) > 1 else ""
    )
    return (
        f"{first['path']}: {first['message']}{more}; nothing was published: fix the mapping, or "
        "submit with partial=True (matterhub submit --partial) to publish the records it does fit"
    )


def new_submission_id() -> str:
    """A new random submission id (16 hex digits)."""
    return uuid.uuid4().hex[:16]


class Pipeline:
    """Runs submissions against one catalog and blob store, as one principal.

    Each run's version is published by ``versions`` and followed by the hooks of
    ``dispatcher`` (both Connect's, shared with its other ways of making a version).
    """

    def __init__(
        self,
        catalog: Database,
        store: BlobStore,
        staging_root: Path,
        principal: Principal,
        *,
        versions: VersionBuilder,
        dispatcher: Dispatcher,
        limits: ArchiveLimits | None = None,
        progress: bool | Callable[[Submission], None] = True,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.staging_root = staging_root
        self.principal = principal
        self.versions = versions
        self.dispatcher = dispatcher
        self.limits = limits or ArchiveLimits()
        # a callable gets a snapshot of the submission each time its steps are saved
        # (a widget's progress bar) instead of the tqdm bars
        self.on_update: Callable[[Submission], None] | None = progress if callable(progress) else None
        self.progress = bool(progress) and self.on_update is None

    # -- entry points -------------------------------------------------------

    def create(self, source: str, request: SubmissionRequest, sub_id: str | None = None) -> str:
        """Record a ``queued`` submission of ``source`` owned by the principal; return its id.

        First the principal claims the dataset's name (for ``request.group`` when it is
        new), before anything is recorded: a name that belongs to someone else is refused
        (:class:`~hub.exceptions.NameNotAvailableError`).  ``sub_id`` is the id to give it
        (a new one when None).  Nothing runs until :meth:`run`.
        """
        Names(self.catalog).claim(self.principal, Kind.DATASET, request.name, request.group)
        sub_id = sub_id or new_submission_id()
        self.catalog.add_submission(
            SubmissionRow(
                id=sub_id,
                owner=self.principal.owner_id,
                source=source,
                source_name=request.name,
                status="queued",
                steps=new_steps(),
                errors=[],
                options=request.model_dump(mode="json"),
            )
        )
        return sub_id

    def run(self, sub_id: str, source: str, request: SubmissionRequest) -> Submission:
        """Run submission ``sub_id`` (made by :meth:`create`) through every step.

        A :class:`~hub.exceptions.HubError` marks the submission failed, with its message,
        and is not raised; any other exception marks it failed (``interrupted`` for a
        ``KeyboardInterrupt`` and the like) and is raised.  Once the version is committed
        the submission keeps its outcome, whatever fails after.  The staging folder is removed
        either way, and the dispatch hooks run when the version was committed.

        Returns
        -------
        Submission
            The submission as the catalog holds it after the run.
        """
        return self.finish(_Run(self, sub_id, source, request))

    def finish(self, run: SubmissionRun) -> Submission:
        """Execute ``run`` and record its outcome (the body of :meth:`run`, and of a harvest's run).

        Errors are handled as :meth:`run` says; the run's staging folder goes either way and the
        dispatch hooks run when its version was committed.
        """
        try:
            run.execute()
        except HubError as exc:
            run.fail(exc.message)
        except Exception as exc:
            run.fail(f"{exc.__class__.__name__}: {exc}")
            raise
        except BaseException:
            run.fail("interrupted")
            raise
        finally:
            shutil.rmtree(self.staging_root / run.id, ignore_errors=True)
            if run.committed:
                self.dispatcher.dispatch(run.request.name)
        row = self.catalog.submission_row(run.id)
        assert row is not None
        return Submission.from_row(row, self.principal.name)


class SubmissionRun:
    """The state of one run of one submission: its steps, errors and status, saved as they change.

    Subclasses implement :meth:`execute` (the pipeline's steps, a harvest's); :meth:`Pipeline.finish`
    runs it and records the outcome.

    Parameters
    ----------
    pipeline
        The pipeline whose catalog, store, principal, versions and hooks the run uses.
    sub_id, source, request
        The submission.
    steps
        The steps as saved so far (a resumed run keeps their state), else new ones.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        sub_id: str,
        source: str,
        request: SubmissionRequest,
        steps: list[dict[str, Any]] | None = None,
    ) -> None:
        self.p = pipeline
        self.id = sub_id
        self.source = source
        self.request = request
        self.steps = steps if steps is not None else new_steps()
        self.errors: list[dict[str, Any]] = []
        self.status = "running"
        #: whether the dispatch transaction committed (the submission is then done, whatever follows)
        self.committed = False

    def execute(self) -> None:
        """Run the submission's steps (a subclass's)."""
        raise NotImplementedError

    # -- bookkeeping ---------------------------------------------------------

    def save(self, **extra: Any) -> None:
        """Save the steps, errors and status (and ``extra`` columns); tell the progress callback."""
        self.p.catalog.update_submission(
            self.id, status=self.status, steps=self.steps, errors=self.errors, **extra
        )
        if self.p.on_update is not None:
            try:
                self.p.on_update(self.snapshot())
            except Exception as exc:  # a broken progress display must not fail the submission
                warnings.warn(
                    f"the submission's progress callback failed: {exc!r}", RuntimeWarning, stacklevel=2
                )

    def snapshot(self) -> Submission:
        """The submission as saved so far (copies: the callback may keep it)."""
        return Submission(
            id=self.id,
            status=self.status,
            source=self.source,
            source_name=self.request.name,
            source_id=None,
            owner=self.p.principal.name,
            steps=[dict(s) for s in self.steps],
            errors=[dict(e) for e in self.errors],
        )

    @contextmanager
    def step(self, name: str) -> Iterator[dict[str, Any]]:
        """Step ``name`` as running, timed, then done (or failed when the block raises)."""
        s = next(x for x in self.steps if x["name"] == name)
        s["status"] = "running"
        self.save()
        t0 = time.perf_counter()
        try:
            yield s
        except BaseException:
            s["status"] = "failed"
            s["seconds"] = round(time.perf_counter() - t0, 4)
            raise
        s["seconds"] = round(time.perf_counter() - t0, 4)
        if s["status"] == "running":
            s["status"] = "done"
        self.save()  # for dispatch: its timing, after the transaction made the result durable

    def fail(self, message: str) -> None:
        """Mark the run failed (or interrupted) with ``message``, unless its version was committed."""
        if self.committed:  # only the bookkeeping after the commit failed: the submission is done
            return
        self.status = "failed" if message != "interrupted" else "interrupted"
        for s in self.steps:
            if s["status"] == "running":
                s["status"] = "failed"
        try:
            self.save(message=message)
        except Exception:  # the catalog itself may be what failed; the row stays 'running'
            pass

    def dataset_document(self, files: list[dict[str, Any]], version: int) -> dict[str, Any]:
        """The validated dataset document, written for ``version`` (stamped again when published)."""
        req = self.request
        entries = manifest_entries(files)
        doc = {
            "dc": req.datacite_block().model_dump(mode="json", exclude_none=True),
            "mdf": {
                "source_name": req.name,
                "source_id": source_id_of(req.name, version),
                "version": version,
                "visible_to": req.visible_to,
                "organizations": req.organizations,
                "tags": req.tags,
                "owner": self.p.principal.name,
                "ingest_date": _now_iso(),
                "status": PENDING_CURATION if req.curate else PUBLISHED,
                **({"by_reference": True} if req.by_reference else {}),
            },
            "data": {
                "location": files_location(source_id_of(req.name, version)),
                "total_size": sum(e.length for e in entries),
                "files": len(entries),
                "records": 0,
                "root_hash": root_hash(entries),
                "origin": logical_origin(self.source),
            },
            "custom": req.custom,
        }
        return validate_dataset(doc)

    def publish(self, draft: Draft) -> None:
        """The curate and dispatch steps: publish ``draft`` in one transaction with the submission's outcome."""
        req = self.request
        with self.step("curate") as s:
            if req.curate:
                s["detail"] = "waiting for a curator (matterhub curate accept|reject ID)"
            else:
                s["status"] = "skipped"

        with self.step("dispatch") as s:
            s["status"] = "done"
            final = "pending_curation" if req.curate else "complete"
            s["detail"] = f"{len(draft.files)} files, {len(draft.records)} records committed"
            self.p.dispatcher.prepare(req.name)
            try:
                self.p.versions.publish(
                    draft,
                    submission_id=self.id,
                    submission_values={
                        "status": final,
                        "steps": self.steps,
                        "errors": self.errors,
                        "message": None,
                    },
                )
            except BaseException:
                self.p.dispatcher.abandon(req.name)
                raise
            self.committed = True
            self.status = final


class _Run(SubmissionRun):
    """One run of one submission through the pipeline's steps."""

    def __init__(self, pipeline: Pipeline, sub_id: str, source: str, request: SubmissionRequest) -> None:
        super().__init__(pipeline, sub_id, source, request)
        self.staging = pipeline.staging_root / sub_id

    def bar(self, total: int, desc: str) -> Any:
        return tqdm(total=total, desc=desc, unit="file", disable=not self.p.progress, leave=False)

    # -- the steps -------------------------------------------------------------

    def execute(self) -> None:
        self.staging.mkdir(parents=True, exist_ok=True)
        self.save(pid=os.getpid(), host=socket.gethostname(), message=None)
        req = self.request
        # the name may have changed hands since the submission was queued
        Names(self.p.catalog).claim(self.p.principal, Kind.DATASET, req.name)

        referenced: Referenced | None = None
        stored: dict[Path, StoredFile] = {}
        with self.step("collect") as s:
            if req.by_reference:
                referenced = collect_reference(self.source, self.staging)
                collected = referenced.collected
                s["detail"] = f"{len(collected.files)} files at their source (by reference)"
            else:
                collected = collect(self.source, self.staging, self.p.limits)
                self.errors += collected.errors
                stored = self.store_blobs(collected)
                size = sum(e.length for e in stored.values())
                s["detail"] = f"{len(collected.files)} files, {size:,} bytes stored" + (
                    f", {len(collected.errors)} not taken" if collected.errors else ""
                )

        mapping, joins = split_mapping(req.mapping)
        context = ExtractionContext(root=collected.root, mapping=mapping, stored=stored)
        with self.step("extract") as s:
            extractors = available_extractors(req.extractors)
            if mapping and not any(e.needs_mapping for e in extractors):
                raise SubmissionError(
                    "a mapping was given, but no extractor that applies mappings is installed or selected "
                    f"(selected: {', '.join(e.name for e in extractors)}); add 'mapping' to extractors"
                )
            groups = extract_step.plan(collected.files, extractors, context)
            if referenced is not None:  # checksums now (copies for extractors that need a file)
                local = extract_step.local_files(groups)
                stored.update(referenced.entries(local))
                context = replace(context, opener=referenced.opener(local))
            bodies: list[tuple[dict[str, Any], list[str]]] = []
            with self.bar(len(groups), "extract") as bar:
                results = list(extract_step.run(groups, context, bar))
            n_err = sum(len(r.errors) for r in results)
            for r in results:
                self.errors += r.errors
            s["warnings"] = [w for r in results for w in r.warnings][:MAX_WARNINGS]
            s["detail"] = (
                f"{len(groups)} groups, {n_err} extractor errors, {len(s['warnings'])} library warnings"
            )
            if req.mapping and not req.partial:
                unmapped = extract_step.mapping_errors(results)
                if unmapped:
                    raise MappingError(_unmapped_message(unmapped), errors=unmapped)

        with self.step("merge") as s:
            for r in results:
                bodies += merge_parts(r.parts)
            if joins:
                bodies = apply_joins(bodies, joins, collected.root)
            s["detail"] = f"{len(bodies)} records" + (f", {len(joins)} table joins" if joins else "")

        with self.step("validate") as s:
            version = self.p.catalog.next_version(req.name)
            files = self.files(collected, stored)
            draft = Draft(
                document=self.dataset_document(files, version),
                files=files,
                records=self.validate_records(
                    bodies, version, {f["path"]: f["url"] for f in files if f["url"]}
                ),
                owner=self.p.principal.owner_id,
            )
            s["detail"] = f"{len(draft.records)} valid records"

        self.publish(draft)

    # -- helpers ------------------------------------------------------------

    def files(self, collected: Collected, stored: dict[Path, StoredFile]) -> list[dict[str, Any]]:
        """The version's files: each one's entry, as the blob store stored it."""
        files = []
        for f in collected.files:
            if stored[f].changed():
                raise SubmissionError(
                    f"{f.relative_to(collected.root).as_posix()} changed while it was being submitted; "
                    "submit the dataset again once nothing writes to it"
                )
            entry = {**file_entry(f, collected.root, stored=stored[f]), "url": reference_url(stored[f])}
            files.append({k: entry[k] for k in FILE_FIELDS})
        return files

    def validate_records(
        self, bodies: list[tuple[dict[str, Any], list[str]]], version: int, urls: dict[str, str]
    ) -> list[dict[str, Any]]:
        """The valid records of ``bodies``; ``urls`` holds the source of each file published by reference."""
        req = self.request
        source_id = source_id_of(req.name, version)
        out = []
        for scroll_id, (body, names) in enumerate(bodies, start=1):
            for f in body.get("files", []):
                if f.get("path") in urls:
                    f["url"] = urls[f["path"]]
            doc = {
                "mdf": {
                    "source_name": req.name,
                    "source_id": source_id,
                    "version": version,
                    "record_id": f"{source_id}.{scroll_id}",
                    "scroll_id": scroll_id,
                    "visible_to": req.visible_to,
                    "extractors": names,
                    **({"by_reference": True} if req.by_reference else {}),
                },
                **body,
            }
            try:
                out.append(validate_record(doc))
            except ValidationError as exc:
                paths = [f["path"] for f in body.get("files", [])] or ["(record)"]
                self.errors.append(
                    {
                        "path": paths[0],
                        "paths": paths,
                        "step": "validate",
                        "extractor": ",".join(names),
                        "error": "ValidationError",
                        "message": exc.message,
                    }
                )
        # renumber so scroll ids stay dense after invalid records were dropped
        for i, r in enumerate(out, start=1):
            r["mdf"]["scroll_id"] = i
            r["mdf"]["record_id"] = f"{source_id}.{i}"
        return out

    def store_blobs(self, collected: Collected) -> dict[Path, StoredFile]:
        """Copy every collected file into the blob store, hashing it on the way.

        Blobs are content-addressed and invisible until the dispatch transaction
        names them, so storing them before extraction is safe; a retry finds
        them already there.  Returns each file's entry (its sha256 and length),
        which extraction receives.
        """
        total = sum(f.stat().st_size for f in collected.files)
        stored = {}
        with tqdm(
            total=total, desc="store", unit="B", unit_scale=True, disable=not self.p.progress, leave=False
        ) as bar:
            for f in collected.files:
                stored[f] = entry = self.p.store.put_file(f)
                bar.update(entry.length)
        return stored


def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
