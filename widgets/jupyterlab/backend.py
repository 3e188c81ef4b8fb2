"""What the panel's handlers answer, as plain JSON-ready values, computed off the event loop.

:class:`HubBackend` owns the hub of one Jupyter server (opened on first use, so the server
starts at once and a hub that cannot be opened is an error on the panel, not a dead
server) and a small thread pool: every hub call blocks (SQLite, tantivy, HTTP to a remote
hub), so the handlers ``await`` :meth:`HubBackend.call` and the server stays responsive.

Access control is the hub's own: the hub is opened as the principal of
:class:`~hub.widgets.jupyterlab.settings.HubSettings`, and every answer comes from the
public API of that hub (search hits, totals and facet counts, records, datasets,
servables), which filters by that principal below every call.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from hub.widgets.jupyterlab import snippets
from hub.widgets.jupyterlab.settings import HubSettings
from hub.widgets.type_words import schema_rows

from hub.api import HubAPI
from hub.exceptions import HubError, NotFoundError, ValidationError

T = TypeVar("T")

#: Facets of the panel's search when the request names none.
DEFAULT_FACETS = ("mdf.resource_type", "mdf.source_name", "material.elements", "files.data_type")
#: Hits per page at most (the panel asks for 20).
MAX_LIMIT = 100
#: Files listed in a dataset's details at most (the count is always given).
MAX_FILES = 200
#: Dataset catalogs kept (a source_id names one immutable version).
CATALOG_CACHE = 32


class HubUnavailableError(HubError):
    """The configured hub cannot be opened (a missing folder, a service that does not answer)."""

    status_code = 503
    title = "Hub unavailable"


class HubBackend:
    """The hub of one Jupyter server, and the blocking work of the panel's handlers."""

    def __init__(self, settings: HubSettings, *, max_workers: int = 4) -> None:
        self.settings = settings
        self._hub: HubAPI | None = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="matterhub-lab")
        self._catalogs: OrderedDict[str, dict[str, Any]] = OrderedDict()

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def hub(self) -> HubAPI:
        """The hub, opened on first use (blocking; call from :meth:`call`)."""
        with self._lock:
            if self._hub is None:
                try:
                    self._hub = self.settings.open()
                except Exception as exc:  # a refused connection, a bad token, an unreadable folder
                    raise HubUnavailableError(
                        f"the hub at {self.settings.describe()['location']} could not be opened: {exc}"
                    ) from exc
            return self._hub

    async def call(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """Run ``fn(*args, **kw)`` in the backend's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kw))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            if self._hub is not None:
                self._hub.close()
                self._hub = None

    # -- answers -------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        hub = self.hub
        return {
            **self.settings.describe(),
            "principal": {"user": hub.principal.user, "groups": sorted(hub.principal.groups)},
            "facets": list(DEFAULT_FACETS),
        }

    def search(
        self,
        q: str = "*",
        *,
        facets: Sequence[str] = (),
        filters: Mapping[str, Any] | None = None,
        limit: int = 20,
        offset: int = 0,
        sort: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        if not 0 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit={limit}: ask for 0 to {MAX_LIMIT} hits per page")
        res = self.hub.search(
            q or "*",
            facets=list(facets or DEFAULT_FACETS),
            filters=dict(filters or {}),
            limit=limit,
            offset=offset,
            sort=sort or None,
            kinds=list(kinds) if kinds else None,
        )
        return _jsonable(res.to_dict())

    def record(self, record_id: str) -> dict[str, Any]:
        return _jsonable(self.hub.record(record_id))

    def dataset(self, source_id: str) -> dict[str, Any]:
        ds = self.hub.dataset(source_id)
        files = ds.files()
        return _jsonable(
            {
                "dataset": ds.to_dict(),
                "metadata": ds.metadata,
                "files": files[:MAX_FILES],
                "n_files": len(files),
                "entries": self.entries(ds.source_id),
            }
        )

    def entries(self, source_id: str) -> list[dict[str, Any]]:
        """The entries of a dataset's Intake catalog: record groups first, then files."""
        with self._lock:
            cached = self._catalogs.get(source_id)
            if cached is not None:
                self._catalogs.move_to_end(source_id)
                return list(cached["entries"])
        from hub.catalog import dataset_catalog

        cat = dataset_catalog(self.hub, source_id)
        out = []
        for name in cat:
            desc = cat.entries[cat.aliases[name]]
            meta = dict(getattr(desc, "metadata", None) or {})
            group = name in snippets.RECORD_GROUPS and "group" in meta
            out.append(
                {
                    "name": name,
                    "kind": "records" if group else "file",
                    "output": str(getattr(desc, "output_instance", "") or ""),
                    "records": meta.get("n_records") if group else None,
                    "length": meta.get("length"),
                }
            )
        out.sort(key=lambda e: (e["kind"] != "records", e["name"]))
        with self._lock:
            self._catalogs[source_id] = {"entries": out}
            while len(self._catalogs) > CATALOG_CACHE:
                self._catalogs.popitem(last=False)
        return list(out)

    def fields(self) -> dict[str, Any]:
        return _jsonable(self.hub.fields())

    def servables(self, q: str = "*", *, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        if not 0 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit={limit}: ask for 0 to {MAX_LIMIT} hits per page")
        return _jsonable(self.hub.servables(q or "*", limit=limit, offset=offset).to_dict())

    def servable(self, name: str) -> dict[str, Any]:
        sv = self.hub.servable(name)
        schema = sv.json_schema()
        methods = (sv.document.get("servable") or {}).get("methods") or {}
        method = methods.get("run") or next(iter(methods.values()), {})
        return _jsonable(
            {
                **sv.to_dict(),
                "json_schema": schema,
                "form": schema_rows(method),
                "example": {
                    "inputs": snippets.example_value(schema.get("input")),
                    "parameters": snippets.example_value(schema.get("parameters")) or {},
                },
            }
        )

    # -- code for the notebook -------------------------------------------------------------

    def snippet(self, kind: str, args: Mapping[str, str]) -> dict[str, Any]:
        """The code of an "Insert code" button; what it names is checked against the hub first,
        so a notebook never gets code for something this principal cannot see."""
        expr = self.settings.hub_expression()
        if kind == "dataset":
            source_id = _required(args, "id")
            ds = self.hub.dataset(source_id)
            entries = self.entries(ds.source_id)
            entry = args.get("entry") or None
            if entry is None:
                groups = [e for e in entries if e["kind"] == "records"]
                chosen = groups[0] if groups else (entries[0] if entries else None)
            else:
                chosen = next((e for e in entries if e["name"] == entry), None)
                if chosen is None:
                    names = ", ".join(e["name"] for e in entries[:20]) or "none"
                    raise NotFoundError(
                        f"{ds.source_id} has no catalog entry {entry!r}; its entries: {names}"
                    )
            code = snippets.dataset_snippet(
                expr,
                ds.source_id,
                chosen["name"] if chosen else None,
                group=bool(chosen and chosen["kind"] == "records"),
            )
            return {
                "code": code,
                "kind": kind,
                "id": ds.source_id,
                "entry": chosen["name"] if chosen else None,
            }
        if kind == "record":
            record = self.hub.record(_required(args, "id"))
            record_id = record["mdf"]["record_id"]
            return {"code": snippets.record_snippet(expr, record_id), "kind": kind, "id": record_id}
        if kind == "search":
            filters = _json_arg(args, "filters", {})
            if not isinstance(filters, dict):
                raise ValidationError(f"filters must be a JSON object of field -> values, got {filters!r}")
            q = args.get("q") or "*"
            self.hub.search(
                q, filters=filters, limit=0
            )  # a malformed query is a 400 here, not in the notebook
            code = snippets.search_snippet(expr, q, filters, limit=_int_arg(args, "limit", 10))
            return {"code": code, "kind": kind}
        if kind == "servable":
            sv = self.hub.servable(_required(args, "name"))
            schema = sv.json_schema()
            inputs = _json_arg(args, "inputs", None)
            if inputs is None:
                inputs = snippets.example_value(schema.get("input"))
            parameters = _json_arg(args, "parameters", None)
            if parameters is not None and not isinstance(parameters, dict):
                raise ValidationError(f"parameters must be a JSON object, got {parameters!r}")
            code = snippets.servable_snippet(expr, sv.id, inputs, parameters)
            return {"code": code, "kind": kind, "id": sv.id}
        raise ValidationError(f"snippet kind {kind!r} is not known; use dataset, record, search or servable")


def _required(args: Mapping[str, str], name: str) -> str:
    value = args.get(name)
    if not value:
        raise ValidationError(f"the {name!r} parameter is required")
    return value


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"{name}={value!r} is not an integer") from None


def _json_arg(args: Mapping[str, str], name: str, default: Any) -> Any:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ValidationError(f"{name} is not valid JSON ({exc}): {value[:80]!r}") from None


def _jsonable(value: Any) -> Any:
    """Dates and other non-JSON leaves as strings (what ``json.dumps(default=str)`` gives)."""
    return json.loads(json.dumps(value, default=str))
