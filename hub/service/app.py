"""The FastAPI application over one open hub."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from hub import __version__
from hub.api import HubInfo
from hub.hubs.embedded import EmbeddedHub
from hub.service.addressguard import AddressGuardMiddleware
from hub.service.bodylimit import BodyLimitMiddleware
from hub.service.deps import CallerHub
from hub.service.errors import ERROR_RESPONSES, install_error_handlers
from hub.service.harvests import HarvestScheduler, ScheduledHarvest
from hub.service.queue import SubmissionQueue, SubmissionSink
from hub.service.ratelimit import RateLimitMiddleware
from hub.service.routes import datasets, search, servables, users
from hub.service.routes import submissions as submission_routes
from hub.service.settings import ServiceSettings

API_PREFIX = "/api"

#: Routers of other APIs the service speaks, mounted when their module is installed:
#: (module, attribute, prefix).
EXTRA_ROUTERS: dict[str, tuple[str, str, str]] = {
    "globus": ("hub.service.globus", "router", "/globus-search"),
    # the submodule itself: once imported, ``hub.service.optimade.router`` (the package attribute)
    # is that submodule, not its APIRouter, and a second app would mount the module
    "optimade": ("hub.service.optimade.router", "router", "/optimade"),
}

info_router = APIRouter(tags=["info"])


@info_router.get("/info", summary="What this hub is and holds (counts you may see)")
def info(hub: CallerHub) -> HubInfo:
    """The hub's name, version and API prefix, how many datasets the caller may see, and who the caller is."""
    return hub.info()


@info_router.get("/stats", summary="How many datasets (all versions), records and files the hub holds")
def stats(hub: CallerHub) -> dict[str, int]:
    """The hub's totals, whoever asks: datasets (every version), records and files."""
    return hub.stats()


def create_app(
    hub: EmbeddedHub,
    settings: ServiceSettings | None = None,
    *,
    start_worker: bool = True,
    rate_limit: bool = False,
    harvests: Sequence[ScheduledHarvest] = (),
    submissions: SubmissionSink | None = None,
    shared_limits: Engine | None = None,
    on_stop: Callable[[], None] | None = None,
) -> FastAPI:
    """The REST API over ``hub`` (opened as its admin: each request acts as its caller).

    ``start_worker``: run queued submissions in a background thread (the service does;
    a test of the API alone may not want to).  ``rate_limit``: per-caller request and
    upload rate limits (``matterhub serve`` turns them on; see :mod:`hub.service.ratelimit`).
    ``harvests``: OPTIMADE providers the worker harvests at start and on a schedule
    (:mod:`hub.service.harvests`; only with ``start_worker``).  ``submissions``: where
    queued submissions go instead of a queue of this process (an API process of
    ``matterhub serve --workers N`` hands them to the writer process; then ``start_worker``
    does nothing).  ``shared_limits``: the catalog's engine, whose rows hold the rate
    limits' buckets for every API process (:mod:`hub.service.sharedlimits`).  ``on_stop``:
    called when the app shuts down.
    """
    settings = settings or ServiceSettings()
    queue = SubmissionQueue(hub, settings.submission_threads, settings)
    scheduler = HarvestScheduler(hub, queue, harvests if start_worker else ())
    start_worker = start_worker and submissions is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            queue.start()
            # servable tasks a previous process left unfinished run again
            await asyncio.to_thread(hub.resume_tasks)
            scheduler.start()
        try:
            yield
        finally:
            scheduler.stop(timeout=10)
            queue.stop(timeout=60)
            if on_stop is not None:
                on_stop()

    app = FastAPI(
        title="MatterHub",
        version=__version__,
        description=(
            "A materials data and model hub: Connect, Publish and Discover datasets (MDF) and "
            "describe, publish, discover and run servables (DLHub). Send `Authorization: Bearer "
            "<token>`; without a token you see public things only."
        ),
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.hub = hub
    app.state.settings = settings
    app.state.submissions = queue if submissions is None else submissions
    app.state.harvests = scheduler
    install_error_handlers(app)
    # request bodies within the settings' limits, before any route reads them
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    # reads of files published by reference pass the same guard as URL submissions
    app.add_middleware(AddressGuardMiddleware, settings=settings)
    if rate_limit:
        # limits from MATTERHUB_SERVICE_RATE_* (0: off)
        app.add_middleware(RateLimitMiddleware, shared=shared_limits)
    for module in (
        info_router,
        datasets.router,
        search.router,
        submission_routes.router,
        servables.router,
        users.router,
    ):
        app.include_router(module, prefix=API_PREFIX)
    for api, (module_name, attr, prefix) in EXTRA_ROUTERS.items():
        if api not in settings.apis:
            continue
        try:
            extra = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        app.include_router(getattr(extra, attr), prefix=prefix)
    _optional_auth(app)
    return app


def _optional_auth(app: FastAPI) -> None:
    """Mark the bearer token optional in the OpenAPI schema.

    Every secured operation gets ``security: [{HTTPBearer: []}, {}]``: anonymous callers
    are welcome and see public things.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for ops in schema.get("paths", {}).values():
                for op in ops.values():
                    if isinstance(op, dict) and op.get("security") and {} not in op["security"]:
                        op["security"].append({})
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
