"""Datasets, their versions, files (streamed, HTTP Range, sha256 ETag) and records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

from hub.service.deps import CallerHub
from hub.service.files import file_response

router = APIRouter(tags=["datasets"])


def dataset_body(ds: Any) -> dict[str, Any]:
    return {**ds.to_dict(), "metadata": ds.metadata}


@router.get("/datasets", summary="The datasets you may see")
def list_datasets(
    hub: CallerHub,
    all_versions: bool = False,
    source_name: str | None = None,
) -> list[dict[str, Any]]:
    return [dataset_body(d) for d in hub.datasets(all_versions=all_versions, source_name=source_name)]


@router.get("/datasets/{ident}", summary="A dataset by source_id (name_vN) or source_name (latest)")
def get_dataset(ident: str, hub: CallerHub) -> dict[str, Any]:
    return dataset_body(hub.dataset(ident))


@router.patch("/datasets/{ident}", summary="A new version with changed metadata (same files)")
def update_dataset(ident: str, hub: CallerHub, changes: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
    return dataset_body(hub.update_metadata(ident, **changes))


@router.get("/datasets/{ident}/versions", summary="Every version of a dataset you may see")
def dataset_versions(ident: str, hub: CallerHub) -> list[dict[str, Any]]:
    return [dataset_body(d) for d in hub.dataset(ident).versions()]


@router.get("/datasets/{ident}/files", summary="The files of a dataset version")
def dataset_files(ident: str, hub: CallerHub) -> list[dict[str, Any]]:
    return hub.dataset(ident).files()


@router.get("/datasets/{ident}/records", summary="The records of a dataset version, paged")
def dataset_records(
    ident: str,
    hub: CallerHub,
    offset: int = Query(0, ge=0, le=2**62),
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    return hub.dataset(ident).records(offset=offset, limit=limit)


@router.get("/datasets/{ident}/manifest", summary="The version's manifest (paths, sizes, sha256, root hash)")
def dataset_manifest(ident: str, hub: CallerHub) -> dict[str, Any]:
    return hub.dataset(ident).manifest()


@router.get("/datasets/{ident}/datacite", summary="The DataCite JSON of a dataset version")
def dataset_datacite(ident: str, hub: CallerHub) -> dict[str, Any]:
    return hub.dataset(ident).datacite()


@router.get("/datasets/{ident}/verify", summary="Paths whose blobs are missing or corrupt (empty: all good)")
def dataset_verify(ident: str, hub: CallerHub) -> dict[str, Any]:
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
    return file_response(hub, ident, path, request)


@router.get("/records/{record_id}", summary="One record")
def get_record(record_id: str, hub: CallerHub) -> dict[str, Any]:
    return hub.record(record_id)
