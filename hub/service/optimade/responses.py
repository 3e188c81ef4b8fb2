"""The JSON bodies of the OPTIMADE endpoint.

``meta``, errors, ``info``, ``info/structures`` and ``links``: JSON:API documents as the
OPTIMADE specification shapes them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from hub import __version__
from hub.exceptions import HubError, excerpt
from hub.optimade.properties import PREFIX, PROPERTIES, Property

#: The version of the OPTIMADE specification served (the grammar and models of the
#: ``optimade`` package this endpoint is validated with).
API_VERSION = "1.2.0"
MAJOR = API_VERSION.split(".")[0]
SCHEMA_URL = f"https://schemas.optimade.org/openapi/v{'.'.join(API_VERSION.split('.')[:2])}/optimade.json"
PROVIDER = {
    "name": "MatterHub",
    "description": "A Jupyter-native materials data and model hub (MDF and DLHub re-created)",
    "prefix": PREFIX,
}
IMPLEMENTATION = {"name": "MatterHub", "version": __version__}
ENTRY_TYPES = ("structures",)
ENDPOINTS = ("info", "links", *ENTRY_TYPES)


def now() -> str:
    """The current UTC time as OPTIMADE writes it (``2024-05-01T12:00:00Z``)."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(
    representation: str,
    *,
    more: bool = False,
    data_returned: int | None = None,
    data_available: int | None = None,
    warnings: Iterable[str] = (),
) -> dict[str, Any]:
    """The top-level ``meta`` of a response.

    Parameters
    ----------
    representation : str
        The request's path after the (versioned) base URL, with its query string
        (``/structures?filter=nsites<3``).
    more : bool
        ``more_data_available``: whether pages follow.
    data_returned, data_available : int, optional
        The number of matches and of entries in all; left out when None.
    warnings : iterable of str
        Details of the warnings to report (``meta.warnings``), if any.
    """
    out: dict[str, Any] = {
        "query": {"representation": representation},
        "api_version": API_VERSION,
        "more_data_available": more,
        "time_stamp": now(),
        "provider": PROVIDER,
        "implementation": IMPLEMENTATION,
        "schema": SCHEMA_URL,
    }
    if data_returned is not None:
        out["data_returned"] = data_returned
    if data_available is not None:
        out["data_available"] = data_available
    detail = list(warnings)
    if detail:
        out["warnings"] = [{"type": "warning", "code": f"_{PREFIX}_filter", "detail": w} for w in detail]
    return out


_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
           501: "Not Implemented", 553: "Version Not Supported"}  # fmt: skip


def error_body(status: int, detail: str, representation: str, title: str | None = None) -> dict[str, Any]:
    """An OPTIMADE error document: ``errors`` (status, title, detail) and ``meta``."""
    return {
        "errors": [{"status": str(status), "title": title or _TITLES.get(status, "Error"), "detail": detail}],
        "meta": meta(representation),
    }


def error_of(exc: BaseException) -> tuple[int, str, str]:
    """(status, title, detail) of an exception raised while answering a request."""
    if isinstance(exc, HubError):
        return exc.status_code, _TITLES.get(exc.status_code, exc.title), exc.message
    errors = getattr(exc, "errors", None)
    if callable(errors):  # a request that does not fit the API (FastAPI's RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(excerpt(str(p)) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors()[:5]
        )
        return 400, _TITLES[400], f"the request does not fit the API: {problems}"
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int) or (status >= 500 and status not in (501, 553)):
        return 500, _TITLES[500], f"the hub failed to answer this request ({type(exc).__name__})"
    detail = getattr(exc, "detail", None)
    return status, _TITLES.get(status, "Error"), str(detail or exc)


def info_body(versioned_base_url: str, representation: str) -> dict[str, Any]:
    """The base ``info`` document."""
    return {
        "data": {
            "id": "/",
            "type": "info",
            "attributes": {
                "api_version": API_VERSION,
                "available_api_versions": [{"url": versioned_base_url, "version": API_VERSION}],
                "formats": ["json"],
                "available_endpoints": list(ENDPOINTS),
                "entry_types_by_format": {"json": list(ENTRY_TYPES)},
                "is_index": False,
            },
        },
        "meta": meta(representation, data_returned=1, data_available=1),
    }


def _property_info(prop: Property) -> dict[str, Any]:
    out: dict[str, Any] = {"description": prop.description, "type": prop.type, "sortable": prop.sortable}
    if prop.unit:
        out["unit"] = prop.unit
    return out


def entry_info_body(representation: str) -> dict[str, Any]:
    """The ``info/structures`` document: every property, its type, unit and sortability."""
    listed = [p for p in PROPERTIES.values() if p.listed]
    return {
        "data": {
            "id": "structures",
            "type": "info",
            "formats": ["json"],
            "description": "Structures: every record of the hub with a crystal or molecular structure "
            "(crystals, and molecules with dimension_types [0, 0, 0]).",
            "properties": {p.name: _property_info(p) for p in listed},
            "output_fields_by_format": {"json": [p.name for p in listed]},
        },
        "meta": meta(representation, data_returned=1, data_available=1),
    }


def links_body(base_url: str, homepage: str, representation: str) -> dict[str, Any]:
    """The ``links`` document: this database, as the root of its provider."""
    return {
        "data": [
            {
                "id": PREFIX,
                "type": "links",
                "attributes": {
                    "name": "MatterHub",
                    "description": "The structures of this MatterHub service (one database; no separate "
                    "index meta-database).",
                    "base_url": base_url,
                    "homepage": homepage,
                    "link_type": "root",
                },
            }
        ],
        "meta": meta(representation, data_returned=1, data_available=1),
    }
