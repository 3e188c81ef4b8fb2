"""Datasets, their versions, files (streamed, HTTP Range, sha256 ETag) and records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from hub.api import Dataset
from hub.service.deps import CallerHub
from hub.service.files import file_response

router = APIRouter(tags=["datasets"])


def dataset_body(ds: Dataset) -> dict[str, Any]:
    """The JSON of a dataset version: its summary (:meth:``~hub.api.Dataset.to_dict``) and its ``metadata`` document."""
    return {**ds.to_dict(), "metadata": ds.metadata}


@router.get("/datasets", summary="The datasets you may see")
def list_datasets(
    hub: CallerHub,
    all_versions: bool = False,
    source_name: str | None = None,
) -> list[dict[str, Any]]:
    """The latest version of each dataset the caller may see (every version with ``all_versions``).

    Each comes with its summary and its metadata document; ``source_name`` keeps the
    versions of one dataset only.
    """
    return [dataset_body(d) for d in hub.datasets(all_versions=all_versions, source_name=source_name)]


@router.get("/datasets/{ident}", summary="A dataset by source_id (name_vN) or source_name (latest)")
def get_dataset(ident: str, hub: CallerHub) -> dict[str, Any]:
    """One dataset version, with its metadata document: ``name_v2`` names a version, ``name`` the latest one.

    A dataset the caller may not see is a 404, like a missing one.
    """
    return dataset_body(hub.dataset(ident))


@router.patch("/datasets/{ident}", summary="A new version with changed metadata (same files)")
def update_dataset(ident: str, hub: CallerHub, changes: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
    """Publish a new version of a dataset with changed metadata and the same files (no file is copied).

    The body holds the metadata to change, as a submission's (``title``, ``authors``,
    ``description``, ``visible_to``, ``custom``, DataCite fields, ...).  The answer is the new
    version.
    """
    return dataset_body(hub.update_metadata(ident, **changes))


@router.get("/datasets/{ident}/versions", summary="Every version of a dataset you may see")
def dataset_versions(ident: str, hub: CallerHub) -> list[dict[str, Any]]:
    """Every version of the dataset the caller may see, oldest first, each with its metadata document."""
    return [dataset_body(d) for d in hub.dataset(ident).versions()]


@router.get("/datasets/{ident}/files", summary="The files of a dataset version")
def dataset_files(ident: str, hub: CallerHub) -> list[dict[str, Any]]:
    """Every file of the dataset version: path, filename, sha256, length, mime_type and data_type."""
    return hub.dataset(ident).files()


@router.get("/datasets/{ident}/records", summary="The records of a dataset version, paged")
def dataset_records(
    ident: str,
    hub: CallerHub,
    offset: int = Query(0, ge=0, le=2**62),
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    """The records extracted from the dataset version: ``limit`` of them from ``offset``."""
    return hub.dataset(ident).records(offset=offset, limit=limit)


@router.get("/datasets/{ident}/manifest", summary="The version's manifest (paths, sizes, sha256, root hash)")
def dataset_manifest(ident: str, hub: CallerHub) -> dict[str, Any]:
    """The manifest of the dataset version: every file's path, size and sha256, and the root hash (``{}`` when it has none)."""
    return hub.dataset(ident).manifest()


@router.get("/datasets/{ident}/datacite", summary="The DataCite JSON of a dataset version")
def dataset_datacite(ident: str, hub: CallerHub) -> dict[str, Any]:
    """The DataCite JSON of the dataset version, ready for DOI registration (its source_id as an identifier)."""
    return hub.dataset(ident).datacite()


@router.get("/datasets/{ident}/verify", summary="Paths whose blobs are missing or corrupt (empty: all good)")
def dataset_verify(ident: str, hub: CallerHub) -> dict[str, Any]:
    """Check every file of the dataset version against its sha256.

    The answer names the version (``source_id``), says whether all is well (``ok``) and
    lists the paths whose blobs are missing or corrupt (``bad``).
    """
    bad = hub.verify(ident)
    return {"source_id": hub.dataset(ident).source_id, "ok": not bad, "bad": bad}


@router.get(
    "/datasets/{ident}/files/{path:path}",
    summary="A file's bytes (Range requests, ETag = sha256)",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        206: {"content": {"application/octet-stream": {}}, "description": "Part of the file"},
        304: {"description": "Not modified (If-None-Match matched)"},
        416: {"description": "Range not satisfiable"},
    },
)
def get_file(ident: str, path: str, request: Request, hub: CallerHub) -> Response:
    """A file of the dataset version, streamed.

    The ``ETag`` is the file's sha256 (``If-None-Match`` gets 304); one ``bytes=`` range may
    be asked for (206; ``If-Range`` honoured).  A full read is checked against the sha256
    as it streams: a corrupt file ends the response early.
    """
    return file_response(hub, ident, path, request)


@router.get("/records/{record_id}", summary="One record")
def get_record(record_id: str, hub: CallerHub) -> dict[str, Any]:
    """One record by its id (``source_id.N``); 404 when there is none the caller may see."""
    return hub.record(record_id)
