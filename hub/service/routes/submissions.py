"""Submissions: upload an archive or a file, or name a URL; status, retry, curation.

The submission queue runs submissions (:mod:`hub.service.queue`): a request only
queues them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from hub.access import Action, Kind, Principal, Resource, require
from hub.exceptions import AccessDeniedError, ValidationError
from hub.hubs.embedded import EmbeddedHub
from hub.service.bodylimit import json_field
from hub.service.deps import CallerHub
from hub.service.queue import SubmissionSink

router = APIRouter(tags=["submissions"])


class SubmissionMetadata(BaseModel):
    """What :meth:``Hub.submit`` takes besides the source."""

    model_config = ConfigDict(extra="allow")

    title: str = Field(..., min_length=1)
    authors: list[str | dict[str, Any]] = Field(..., min_length=1)
    mapping: dict[str, str] | None = None
    partial: bool = Field(
        False,
        description="With a mapping: publish the records it fits and report the files it does not fit, "
        "instead of failing the submission",
    )
    visible_to: list[str] | None = None
    curate: bool = False
    source_name: str | None = None
    group: str | None = Field(
        None,
        description="A group of yours a new source_name is claimed for (its members submit versions too)",
    )
    filter: str | None = Field(
        None, description="For an optimade+https:// source: the OPTIMADE filter of the structures to harvest"
    )
    copy_files: bool = Field(
        True,
        alias="copy",
        description="false: publish by reference (the files stay at the URL; the hub keeps their "
        "sha256, sizes and URLs and reads them there)",
    )


class URLSubmission(SubmissionMetadata):
    """A submission of the data at a URL, with its metadata."""

    source: str = Field(
        ...,
        description="An http(s), s3, gs, ... URL the service can read, or optimade+https://PROVIDER/ to harvest",
    )


def _submissions(request: Request) -> SubmissionSink:
    queue: SubmissionSink = request.app.state.submissions
    return queue


def _require_submitter(principal: Principal) -> None:
    """Refuse anonymous callers before reading what they send (the policy: signed-in users submit)."""
    require(
        principal, Action.CREATE, Resource(Kind.SUBMISSION), "anonymous callers cannot submit; send a token"
    )


def _check_url(url: str, request: Request) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("", "file", "local") or len(scheme) == 1:  # "C:" is a drive letter
        raise AccessDeniedError(
            "the service reads submissions from URLs or uploads only, not from its own disk; "
            "upload the file or folder (POST /api/submissions/upload)"
        )
    settings = request.app.state.settings
    settings.check_source_url(url)


def _queue(hub: EmbeddedHub, request: Request, source: str, meta: SubmissionMetadata) -> dict[str, Any]:
    fields = meta.model_dump(exclude_none=True)
    fields.pop("source", None)
    title, authors = fields.pop("title"), fields.pop("authors")
    copy = fields.pop("copy_files", True)
    sub = hub.enqueue(source, title, authors, copy=copy, **fields)
    _submissions(request).put(sub.id)
    return sub.to_dict()


@router.post("/submissions", status_code=202, summary="Submit a dataset from a URL (queued; poll its status)")
def submit_url(body: URLSubmission, request: Request, hub: CallerHub) -> dict[str, Any]:
    """Queue a submission of the data at a URL (signed-in callers); the answer is the queued submission.

    The service reads http(s), ftp and object-store URLs, never its own disk, nor
    loopback or private addresses unless its admin allows them (403).  A ``source_name``
    (or the name made from the title) that belongs to someone else is a 409, the same
    whatever holds it.
    """
    _require_submitter(hub.principal)
    _check_url(body.source, request)
    return _queue(hub, request, body.source, body)


@router.post(
    "/submissions/upload",
    status_code=202,
    summary="Submit an uploaded file or archive (zip/tar; unpacked safely) with its metadata",
)
def submit_upload(
    request: Request,
    hub: CallerHub,
    file: UploadFile = File(...),  # noqa: B008
    metadata: str = Form(..., description="The submission metadata as JSON (title, authors, ...)"),
) -> dict[str, Any]:
    """Queue a submission of an uploaded file or archive (signed-in callers); the answer is the queued submission.

    An archive (zip or tar) is unpacked safely before extraction.  An upload larger
    than the service accepts is a 400: submit a URL instead.  A ``source_name`` (or the
    name made from the title) that belongs to someone else is a 409, the same whatever
    holds it.
    """
    _require_submitter(hub.principal)
    doc = json_field(metadata, "metadata", request.app.state.settings.max_json_depth)
    try:
        meta = SubmissionMetadata.model_validate(doc)
    except PydanticValidationError as exc:
        raise ValidationError(f"metadata: {exc}") from None
    if not meta.copy_files:
        raise ValidationError("an upload is copied into the hub; publish by reference from a URL instead")
    name = PurePath(file.filename or "upload").name or "upload"
    if name in (".", ".."):
        name = "upload"
    folder = _submissions(request).uploads / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / name
    limit = request.app.state.settings.max_upload_bytes
    written = 0
    try:
        with open(target, "wb") as out:
            while block := file.file.read(1 << 20):
                written += len(block)
                if written > limit:
                    raise ValidationError(
                        f"the upload is larger than this service accepts ({limit} bytes); "
                        "submit a URL the service can read instead"
                    )
                out.write(block)
        return _queue(hub, request, os.fspath(target), meta)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


@router.get("/submissions", summary="Your submissions (curators: everyone's)")
def list_submissions(hub: CallerHub, status: str | None = None) -> list[dict[str, Any]]:
    """The caller's submissions (curators: everyone's), or only those of one ``status``."""
    return [s.to_dict() for s in hub.submissions(status=status)]


@router.get("/submissions/{submission_id}", summary="A submission's status, steps and per-file errors")
def get_submission(submission_id: str, hub: CallerHub) -> dict[str, Any]:
    """One of the caller's submissions (curators: anyone's): its status, steps and per-file errors."""
    return hub.submission(submission_id).to_dict()


@router.post("/submissions/{submission_id}/retry", status_code=202, summary="Queue a failed submission again")
def retry_submission(submission_id: str, request: Request, hub: CallerHub) -> dict[str, Any]:
    """Queue a failed or interrupted submission again; the answer is the queued submission.

    409 for a submission in any other state; 400 when its uploaded file is gone.
    """
    sub = hub.submission(submission_id)
    if sub.status not in ("failed", "interrupted"):
        from hub.exceptions import ConflictError

        raise ConflictError(f"submission {submission_id} is {sub.status}; only failed or interrupted ones")
    hub.requeue(submission_id)
    _submissions(request).put(submission_id)
    return hub.submission(submission_id).to_dict()


class CurationDecision(BaseModel):
    """A curator's decision on a submission: accept or reject it, and why."""

    accept: bool
    reason: str = ""


@router.get("/curation", summary="Submissions waiting for a curator (curators only)")
def pending_curation(hub: CallerHub) -> list[dict[str, Any]]:
    """The submissions whose dataset waits for a curator's decision (curators only)."""
    return [s.to_dict() for s in hub.pending_curation()]


@router.post("/submissions/{submission_id}/curate", summary="Accept or reject a submission (curators)")
def curate(submission_id: str, body: CurationDecision, hub: CallerHub) -> dict[str, Any]:
    """Accept (publish) or reject (remove) the dataset version a submission left waiting (curators).

    409 when the submission is not waiting for curation; the answer is the submission.
    """
    return hub.curate(submission_id, body.accept, body.reason).to_dict()
