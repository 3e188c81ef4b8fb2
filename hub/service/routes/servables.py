"""Servables (DLHub): discover, describe, publish by upload, run (sync or as a task), tasks.

Inputs and outputs travel as JSON; numpy arrays as ``{"__ndarray__": {"dtype", "shape",
"data": base64}}`` (exact; :func:`hub.servables.codec.to_json`), which the remote client
does for you.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from hub.exceptions import ValidationError
from hub.index.engine import MAX_WINDOW
from hub.servables.codec import DecodeLimits, from_json, to_json
from hub.service.bodylimit import json_field
from hub.service.deps import CallerHub
from hub.service.files import chunks
from hub.service.lanes import in_search_lane
from hub.service.limits import Limits

if TYPE_CHECKING:
    from hub.hubs.embedded import EmbeddedHub
    from hub.servables.published import PublishedServable

router = APIRouter(tags=["servables"])


class RunRequest(BaseModel):
    """A run of a servable: its input, parameters, and how to run it and answer."""

    model_config = ConfigDict(extra="forbid")

    inputs: Any = Field(..., description="The servable's input (arrays as {__ndarray__: ...})")
    parameters: dict[str, Any] | None = None
    asynchronous: bool = Field(False, description="Return a task at once instead of the output")
    arrays: Literal["base64", "lists"] = Field(
        "base64", description="Output arrays as exact base64 ({__ndarray__: ...}) or as nested lists"
    )
    batch: bool | None = Field(
        None, description="`inputs` is a list of inputs, one output each (default: decided from the schema)"
    )
    cache: bool | None = Field(
        None, description="Memoize by version and input hash (default: the servable's)"
    )
    timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds this run may take (default: the servable's; at most the service's limit)",
    )
    memory_mb: int | None = Field(
        None,
        gt=0,
        description="Memory this run may use (default: the servable's; at most the service's limit)",
    )
    trace: bool = Field(
        False,
        description="Answer with a trace too: each step's exact version, time and input and output hashes",
    )


class ServableSearch(BaseModel):
    """A servable search: a query, facets, drill-down filters, a page and its order."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field("*", description="Lucene-style query: `servable.type:keras AND dlhub.domains:materials`")
    facets: list[str | dict[str, Any]] = Field(default_factory=list)
    filters: dict[str, Any] | None = None
    limit: int = Field(10, ge=0, le=10_000)
    offset: int = Field(0, ge=0, le=MAX_WINDOW)
    sort: str | list[str] | None = None


@router.get("/servables", summary="Search the servables you may see")
async def list_servables(
    hub: CallerHub,
    limits: Limits,
    q: str = "*",
    limit: int = Query(10, ge=0, le=10_000),
    offset: int = Query(0, ge=0, le=MAX_WINDOW),
) -> dict[str, Any]:
    """The servables the caller may see that match query ``q``: one page of ``limit`` from ``offset``."""
    limits.query(q)
    return await in_search_lane(lambda: hub.servables(q, limit=limit, offset=offset).to_dict())


@router.post(
    "/servables/search", summary="Search the servables you may see, with facets, filters and sorting"
)
async def search_servables(body: ServableSearch, hub: CallerHub, limits: Limits) -> dict[str, Any]:
    """The servables the caller may see that match the request: one page, with facets."""
    limits.search(body.q, body.facets, body.filters)
    return await in_search_lane(
        lambda: hub.servables(
            body.q,
            facets=body.facets,
            filters=body.filters,
            limit=body.limit,
            offset=body.offset,
            sort=body.sort,
        ).to_dict()
    )


@router.get("/servable-names/{name}", summary="A servable by its bare name (yours, or the one you may see)")
def get_servable_by_name(name: str, hub: CallerHub) -> dict[str, Any]:
    """A servable by its name alone: the caller's own, else the one of that name the caller may see.

    The answer is its document, versions and status, and its input, output and
    parameters as JSON Schema (``schema``).
    """
    return _servable_body(hub.servable(name))


def _servable_body(sv: PublishedServable) -> dict[str, Any]:
    return {**sv.to_dict(), "schema": sv.json_schema()}


@router.get("/servables/{owner}/{name}", summary="A servable (latest version, or name@version)")
def get_servable(owner: str, name: str, hub: CallerHub) -> dict[str, Any]:
    """A servable the caller may see: its document, versions and status, and its input, output and parameters as JSON Schema.

    ``name@version`` names one version; ``name`` alone the latest.
    """
    return _servable_body(hub.servable(f"{owner}/{name}"))


@router.post(
    "/servables",
    status_code=201,
    summary="Publish a servable: its metadata document and its packaged artifact (tar)",
)
def publish_servable(
    request: Request,
    hub: CallerHub,
    metadata: str = Form(..., description="The servable document (ServableDescription.to_dict()) as JSON"),
    artifact: UploadFile | None = File(None),  # noqa: B008
    group: str | None = Form(None, description="A group of yours to publish it for (group/name)"),
) -> dict[str, Any]:
    """Publish a servable packaged by a client (``ServableDescription``): its document and its artifact.

    Signed-in callers publish, as ``<their name>/<name>`` or, with ``group``, as
    ``<group>/<name>``.  A name that belongs to someone else is a 409 ("name not
    available"), the same whatever holds it.  The artifact (a tar; required for a
    runnable servable, at most the service's upload limit) is checked, never loaded or
    run here.  The answer is the published servable.
    """
    doc = json_field(metadata, "metadata", request.app.state.settings.max_json_depth)
    if not isinstance(doc, dict):
        raise ValidationError("metadata must be a JSON object (the servable document)")
    limit = request.app.state.settings.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="upload-", dir=hub.home) as tmp:
        tar = None
        if artifact is not None:
            tar = f"{tmp}/artifact.tar"
            with open(tar, "wb") as out:
                copied = 0
                while block := artifact.file.read(1 << 20):
                    copied += len(block)
                    if copied > limit:
                        raise ValidationError(
                            f"the artifact is larger than this service accepts ({limit} bytes)"
                        )
                    out.write(block)
        servable_id = hub.publish_uploaded_servable(doc, tar, group=group)
    return _servable_body(hub.servable(servable_id))


#: Run requests up to this size (bytes) are checked on the event loop and sent straight to a
#: warm worker (:meth:`hub.hubs.embedded.EmbeddedHub.run_direct`); larger ones, tasks and
#: traced runs are run in a thread.
DIRECT_MAX_BYTES = 64 * 1024


@router.post("/servables/{owner}/{name}/run", summary="Run a servable (validated inputs; worker processes)")
async def run_servable(
    owner: str, name: str, body: RunRequest, request: Request, hub: CallerHub
) -> dict[str, Any]:
    """Run a servable the caller may see on an input, validated against its schema, in a worker process.

    The answer is ``{"output": ...}`` (with ``trace``, also ``{"trace": {"steps", "total_ms"}}``:
    each step's exact version, time and input and output hashes; only the last step's output
    travels), or ``{"task": ...}`` at once with ``asynchronous``
    (poll GET /api/tasks/{id}).  ``timeout`` and ``memory_mb`` may not exceed the service's
    limits (400).  The servable is looked up, and the caller's right to run it checked,
    before the inputs are decoded (404, 403); a malformed tagged input (``__ndarray__``,
    ...) is a 400 that says where it is.
    """
    settings = request.app.state.settings
    if body.timeout is not None and body.timeout > settings.max_run_timeout_s:
        raise ValidationError(f"timeout: at most {settings.max_run_timeout_s:g} s on this service")
    if body.memory_mb is not None and body.memory_mb > settings.max_run_memory_mb:
        raise ValidationError(f"memory_mb: at most {settings.max_run_memory_mb} MB on this service")
    ident = f"{owner}/{name}"
    if body.asynchronous or body.trace or not _small(request):
        return await run_in_threadpool(_run, ident, body, settings.decode_limits, hub)
    limits = settings.decode_limits
    out = await hub.run_direct(
        ident,
        body.inputs,
        body.parameters,
        batch=body.batch,
        cache=body.cache,
        timeout=body.timeout,
        memory_mb=body.memory_mb,
        decode=lambda raw: from_json(raw, limits, "inputs"),
    )
    return {"output": to_json(out, arrays=body.arrays)}


def _small(request: Request) -> bool:
    """Whether the request declared a body of at most :data:`DIRECT_MAX_BYTES`."""
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) <= DIRECT_MAX_BYTES


def _run(ident: str, body: RunRequest, limits: DecodeLimits, hub: EmbeddedHub) -> dict[str, Any]:
    """A run as a task, a traced run or a run of large inputs (in a thread): its answer."""
    hub.check_runnable(ident)
    inputs = from_json(body.inputs, limits, "inputs")
    out = hub.run(
        ident,
        inputs,
        body.parameters,
        body.asynchronous,
        batch=body.batch,
        cache=body.cache,
        timeout=body.timeout,
        memory_mb=body.memory_mb,
        trace=body.trace,
    )
    if body.asynchronous:
        return {"task": out.to_dict()}
    if body.trace:
        steps = [s.to_dict() for s in out.steps]
        return {
            "output": to_json(out.output, arrays=body.arrays),
            "trace": {"steps": steps, "total_ms": out.total_ms},
        }
    return {"output": to_json(out, arrays=body.arrays)}


@router.get(
    "/servables/{owner}/{name}/artifact",
    summary="A servable version's artifact (its packaged tar; name@version)",
    response_class=StreamingResponse,
)
def get_servable_artifact(owner: str, name: str, hub: CallerHub) -> StreamingResponse:
    """The packaged artifact (a tar) of a servable version the caller may see, streamed.

    Whoever may see a servable may read its artifact.  ``ETag`` and ``Digest`` carry its
    sha256, which the stream is checked against as it goes.
    """
    ident = f"{owner}/{name}"
    sv = hub.servable(ident)
    artifact = sv.document.get("dlhub", {}).get("artifact") or {}
    f = hub.servable_artifact(f"{sv.id}@{sv.version}")
    sha = str(artifact.get("sha256", ""))
    headers = {
        "ETag": f'"{sha}"',
        "Digest": f"sha-256={sha}",
        "Content-Disposition": f'attachment; filename="{sv.id.replace("/", "--")}@{sv.version}.tar"',
    }
    size = int(artifact.get("size") or 0)
    if size:
        headers["Content-Length"] = str(size)
    return StreamingResponse(chunks(f, 0, size or 1 << 62), media_type="application/x-tar", headers=headers)


@router.post("/servables/{owner}/{name}/deprecate", summary="Mark a servable deprecated (owner/admin)")
def deprecate_servable(owner: str, name: str, hub: CallerHub, version: int | None = None) -> dict[str, Any]:
    """Mark one version of a servable deprecated (its owner or an admin); the answer is that version.

    Name the version with ``version`` or as ``name@version`` (400 without one).  A deprecated
    version still runs by ``name@version``, with a warning; ``name`` alone no longer picks it.
    """
    return _servable_body(hub.deprecate_servable(f"{owner}/{name}", version))


@router.delete("/servables/{owner}/{name}", status_code=204, summary="Delete a servable (owner/admin)")
def delete_servable(owner: str, name: str, hub: CallerHub, version: int | None = None) -> None:
    """Delete one version of a servable: its metadata, access and memoized outputs (its owner or an admin).

    Name the version with ``version`` or as ``name@version`` (400 without one); past tasks stay.
    """
    hub.delete_servable(f"{owner}/{name}", version)


@router.get("/tasks/{task_id}", summary="A task's status, result (arrays exact) and error")
def get_task(task_id: str, hub: CallerHub) -> dict[str, Any]:
    """An asynchronous run the caller started (admins: anyone's): its status, result and error."""
    return hub.task(task_id).to_json()


@router.get(
    "/provenance/{sha256}",
    summary="The executed notebook a notebook servable's run stored as its provenance",
    response_class=Response,
    responses={200: {"content": {"application/x-ipynb+json": {}}, "description": "The notebook"}},
)
def get_provenance(sha256: str, hub: CallerHub) -> Response:
    """The executed notebook of a run of a notebook servable, by the sha256 the run reported.

    400 for a value that is not a sha256; 404 when there is no such notebook or the
    caller may not read it (the same answer).
    """
    return Response(hub.provenance(sha256), media_type="application/x-ipynb+json")
