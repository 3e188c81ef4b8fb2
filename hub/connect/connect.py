"""Connect: every way a dataset version is made, as one principal.

Submitting (now, or queued for a worker), processing a queued submission,
retrying a failed one, a curator's verdict and a metadata-only update all build
their version with the one :class:`~hub.connect.versions.VersionBuilder` and
change the catalog in one transaction each; the registered dispatch hooks
(:mod:`hub.connect.dispatch`) follow every change once it committed.  The embedded
hub's methods of the same names delegate here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hub.access import PENDING_CURATION, PUBLISHED, Action, Kind, Principal, Resource, require
from hub.access.identities import Identities
from hub.access.names import Names
from hub.access.paths import ServerPaths, shows_paths
from hub.connect.archives import ArchiveLimits
from hub.connect.dispatch import Dispatcher, DispatchHook
from hub.connect.harvest import Harvest
from hub.connect.origin import is_url, logical_origin
from hub.connect.pipeline import Pipeline, new_submission_id
from hub.connect.recovery import recover_interrupted
from hub.connect.request import SubmissionRequest, make_request
from hub.connect.submission import Submission, new_steps
from hub.connect.versions import FILE_FIELDS, Draft, VersionBuilder
from hub.db.database import Database
from hub.db.models import DatasetRow, SubmissionRow
from hub.exceptions import ConflictError, ValidationError
from hub.optimade.provider import is_provider
from hub.records.validation import validate_dataset
from hub.store.blobs import BlobStore

#: Statuses a submission may be retried (or put back in the queue) from.
RETRYABLE = ("failed", "interrupted")
#: Steps a metadata update does not run: it keeps the previous version's files and records.
KEPT_STEPS = ("collect", "extract", "merge")


def require_curator(principal: Principal) -> None:
    """Raise :class:`~hub.exceptions.AccessDeniedError` unless ``principal`` may curate."""
    require(
        principal,
        Action.CURATE,
        Resource(Kind.SUBMISSION),
        f"{principal.name} is not a curator (members of 'curators' or 'admin' are)",
    )


class Connect:
    """Submissions and dataset versions of one catalog and blob store, as ``principal``.

    Parameters
    ----------
    catalog, store
        The catalog (the truth) and the blob store of the hub.
    paths
        The hub's own folders: each running submission gets its own staging folder, and
        submissions are shown to anyone but an admin without them.
    principal
        Who submits, retries, curates or updates.
    limits
        What an archive may unpack to.
    progress
        Show tqdm bars, or a callable given the submission each time a step is saved.
    hooks
        The dispatch hooks to call after each change commits (the embedded hub's
        search index).
    """

    def __init__(
        self,
        catalog: Database,
        store: BlobStore,
        paths: ServerPaths,
        principal: Principal,
        *,
        limits: ArchiveLimits | None = None,
        progress: bool | Callable[[Submission], None] = True,
        hooks: Sequence[DispatchHook] = (),
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.paths = paths
        self.principal = principal
        self.limits = limits or ArchiveLimits()
        self.progress = progress
        self.dispatcher = Dispatcher(hooks)
        self.versions = VersionBuilder(catalog, store)

    # -- submissions ------------------------------------------------------------

    def submit(self, source: str, request: SubmissionRequest) -> Submission:
        """Run a new submission of ``source`` to its end (see :meth:`hub.hubs.embedded.EmbeddedHub.submit`)."""
        pipeline = self._pipeline()
        sub_id = pipeline.create(source, request)
        return self._shown(self._runner(pipeline, source).run(sub_id, source, request))

    def enqueue(self, source: str, request: SubmissionRequest) -> Submission:
        """Record a new submission as ``queued``, for a worker to :meth:`process`."""
        return self.submission(self._pipeline().create(source, request))

    def requeue(self, submission_id: str) -> Submission:
        """Put a failed or interrupted submission back in the queue.

        Raises
        ------
        ValidationError
            When its source is a local file (an upload) that is gone.
        """
        row = self._row(submission_id, RETRYABLE, "; only failed or interrupted ones")
        local = Path(row.source.removeprefix("file://"))
        if not is_url(row.source) and local.is_absolute() and not local.exists():
            raise ValidationError("the uploaded file of this submission is gone; upload it again")
        self._reset(row)
        return self.submission(submission_id)

    def process(self, submission_id: str) -> Submission:
        """Run a queued (or interrupted) submission, as its owner."""
        row = self._row(submission_id, ("queued", "interrupted"), ", not queued")
        request = SubmissionRequest.model_validate(row.options)
        if row.status == "interrupted":
            self._reset(row)
        return self._shown(self._runner(self._pipeline(), row.source).run(row.id, row.source, request))

    def retry(self, submission_id: str) -> Submission:
        """Run a failed or interrupted submission again, with the same source and metadata."""
        row = self._row(submission_id, RETRYABLE, "; only failed or interrupted ones can be retried")
        request = SubmissionRequest.model_validate(row.options)
        self._reset(row)
        return self._shown(self._runner(self._pipeline(), row.source).run(row.id, row.source, request))

    def submission(self, submission_id: str) -> Submission:
        """Return a submission the principal may see, as they may see it (the hub's paths only for admins)."""
        row = self.catalog.submission(submission_id, self.principal)
        return self._shown(Submission.from_row(row, Identities(self.catalog).name(row.owner)))

    def submissions(self, status: str | None = None) -> list[Submission]:
        """The submissions the principal may see (of ``status``, when given), as they may see them."""
        rows = self.catalog.submissions(self.principal, status)
        owners = Identities(self.catalog).names(r.owner for r in rows)
        return [self._shown(Submission.from_row(r, owners[r.owner])) for r in rows]

    def recover_interrupted(self) -> list[str]:
        """Mark submissions whose process died on this host as interrupted; return their ids.

        Such a submission published nothing and can be retried.
        """
        return recover_interrupted(self.catalog, self.paths.staging)

    # -- curation ------------------------------------------------------------------

    def curate(self, submission_id: str, accept: bool, reason: str = "") -> Submission:
        """Accept (publish) or reject (remove) the version a submission left waiting for curation.

        Curators only.  The submission's ``curate`` step records the verdict, who gave it
        and ``reason``.

        Returns
        -------
        Submission
            The submission after the verdict (``complete`` or ``rejected``).

        Raises
        ------
        AccessDeniedError
            When the principal is not a curator.
        ConflictError
            When the submission is not waiting for curation.
        """
        require_curator(self.principal)
        row = self.catalog.submission(submission_id, self.principal)
        if row.status != "pending_curation" or not row.source_id:
            raise ConflictError(f"submission {submission_id} is {row.status}, not pending_curation")
        verdict = "accepted" if accept else "rejected"
        note = f"{verdict} by {self.principal.name}" + (f": {reason}" if reason else "")
        steps = [{**s, "status": "done", "detail": note} if s["name"] == "curate" else s for s in row.steps]
        with self.dispatcher.changing(row.source_name):
            if accept:
                self.versions.accept(
                    row.source_id,
                    submission_id=row.id,
                    submission_values={"status": "complete", "steps": steps, "message": note},
                )
            else:
                self.versions.reject(
                    row.source_id,
                    submission_id=row.id,
                    submission_values={
                        "status": "rejected",
                        "steps": steps,
                        "message": note,
                        "source_id": None,
                    },
                )
        return self.submission(submission_id)

    # -- metadata updates ------------------------------------------------------------

    def update_metadata(self, dataset: str, **changes: Any) -> str:
        """Publish a new version of ``dataset`` with changed metadata; return its ``source_id``.

        The version keeps the files (no blob is copied) and records of ``dataset``, and
        its access list unless ``changes`` give ``visible_to``.  ``changes`` are the
        metadata keywords of a submission; a dataset that goes through curation goes
        through it again.  Only who may change the version and publish under its name
        (:mod:`hub.access.names`) may update it.
        """
        prev = self.catalog.dataset(self.principal, dataset)
        if prev.status != PUBLISHED:
            raise ConflictError(
                f"{prev.source_id} is waiting for curation; update its metadata once a curator has accepted it"
            )
        require(
            self.principal,
            Action.CHANGE,
            Resource(Kind.DATASET, prev.owner, prev.status),
            f"only the owner of {prev.source_id} ({Identities(self.catalog).name(prev.owner)}) may update it",
        )
        Names(self.catalog).claim(self.principal, Kind.DATASET, prev.source_name)
        request = self._updated_request(prev, changes)
        draft = self._revision(prev, request, keep_acl="visible_to" not in changes)
        sub_id = new_submission_id()
        self.catalog.add_submission(
            SubmissionRow(
                id=sub_id,
                owner=self.principal.owner_id,
                source=f"metadata update of {prev.source_id}",
                source_name=prev.source_name,
                status="running",
                steps=[
                    {
                        **s,
                        "status": "skipped"
                        if s["name"] in KEPT_STEPS or (s["name"] == "curate" and not request.curate)
                        else "done",
                    }
                    for s in new_steps()
                ],
                errors=[],
                options=request.model_dump(mode="json"),
            )
        )
        with self.dispatcher.changing(prev.source_name):
            return self.versions.publish(
                draft,
                submission_id=sub_id,
                submission_values={"status": "complete" if draft.status == PUBLISHED else "pending_curation"},
            )

    # -- helpers --------------------------------------------------------------------

    def _pipeline(self) -> Pipeline:
        require(
            self.principal,
            Action.CREATE,
            Resource(Kind.SUBMISSION),
            "anonymous callers cannot submit datasets; open the hub as a user",
        )
        return Pipeline(
            self.catalog,
            self.store,
            self.paths.staging,
            self.principal,
            versions=self.versions,
            dispatcher=self.dispatcher,
            limits=self.limits,
            progress=self.progress,
        )

    @staticmethod
    def _runner(pipeline: Pipeline, source: str) -> Pipeline | Harvest:
        """What runs a submission of ``source``: a harvest for an OPTIMADE provider, else the pipeline."""
        return Harvest(pipeline) if is_provider(source) else pipeline

    def _shown(self, sub: Submission) -> Submission:
        """``sub`` as the principal may see it: the hub's own folders only for its admins.

        Others see a source under those folders (an upload) as its logical origin, and the
        messages and per-file errors with the folders written logically.
        """
        if shows_paths(self.principal):
            return sub
        hidden = not is_url(sub.source) and self.paths.holds(sub.source)
        return dataclasses.replace(
            sub,
            source=logical_origin(sub.source) if hidden else sub.source,
            message=self.paths.redacted(sub.message),
            steps=self.paths.redacted(sub.steps),
            errors=self.paths.redacted(sub.errors),
        )

    def _row(self, submission_id: str, allowed: tuple[str, ...], refusal: str) -> SubmissionRow:
        """Return the submission if its status is one of ``allowed``, else refuse with ``refusal``."""
        row = self.catalog.submission(submission_id, self.principal)
        if row.status not in allowed:
            raise ConflictError(f"submission {submission_id} is {row.status}{refusal}")
        return row

    def _reset(self, row: SubmissionRow) -> None:
        self.catalog.update_submission(
            row.id, status="queued", steps=new_steps(row.steps), errors=[], message=None
        )

    def _updated_request(self, prev: DatasetRow, changes: dict[str, Any]) -> SubmissionRequest:
        """Return the request of ``prev``'s submission (or its document's metadata) with ``changes``."""
        prev_sub = self.catalog.submission_row(prev.submission_id) if prev.submission_id else None
        if prev_sub is not None:
            options = dict(prev_sub.options)
        else:
            dc = prev.document["dc"]
            options = {"title": dc["titles"][0]["title"], "authors": dc["creators"]}
        options.update(changes)
        options["source_name"] = prev.source_name
        return make_request(**options)

    def _revision(self, prev: DatasetRow, request: SubmissionRequest, keep_acl: bool) -> Draft:
        """Draft a version of ``prev`` with ``request``'s metadata and ``prev``'s files and records.

        With ``keep_acl`` the version keeps ``prev``'s stored ACL (the users it names by id,
        even one deleted since, never a new user of the same name).
        """
        status = PENDING_CURATION if request.curate else PUBLISHED
        document = validate_dataset(
            {
                "dc": request.datacite_block().model_dump(mode="json", exclude_none=True),
                "mdf": {
                    **prev.document["mdf"],
                    "visible_to": prev.document["mdf"]["visible_to"] if keep_acl else request.visible_to,
                    "tags": request.tags,
                    "organizations": request.organizations,
                    "status": status,
                },
                "data": {**prev.document["data"]},
                "custom": request.custom,
            }
        )
        files = [
            {k: getattr(f, k) for k in FILE_FIELDS}
            for f in self.catalog.files(self.principal, prev.source_id)
        ]
        return Draft(
            document=document,
            files=files,
            records=self.catalog.records(self.principal, prev.source_id),
            owner=prev.owner,
            derived_from=prev.source_id,
            acl=sorted(self.catalog.acl(prev.source_id)) if keep_acl else None,
        )
