"""The panel's REST handlers, under ``{base_url}matterhub/``.

Every handler is a Jupyter ``APIHandler`` behind ``@tornado.web.authenticated``: Jupyter's
own login (its token, cookie and XSRF checks) guards them, and an unauthenticated request is
refused with 403 before the hub is touched.  What an authenticated request sees is what the
hub's configured principal may see (:mod:`hub.widgets.jupyterlab.backend`).

=================================  ===================================================
``GET info``                       the hub (embedded or remote) and the principal
``GET search?q=&facet=&filters=``  hits, total and facet counts (``limit``, ``offset``,
                                   ``sort``, ``kind`` too)
``GET record?id=``                 one record
``GET dataset?id=``                a dataset's metadata, files and catalog entries
``GET fields``                     the searchable fields
``GET servables?q=``               servables
``GET servable?name=owner/name``   one servable, its JSON Schema and example inputs
``GET snippet?kind=...``           the code of an "Insert code" button (``kind`` is
                                   dataset, record, search or servable)
=================================  ===================================================

Errors answer with the hub's JSON body (``status``, ``title``, ``detail`` and, for a bad
query, the ``position`` of the problem).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import tornado.web
from hub.widgets.jupyterlab.backend import HubBackend
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin

from hub.exceptions import AuthenticationError, HubError

#: The settings key of the server's :class:`HubBackend`.
BACKEND_KEY = "matterhub_backend"


class MatterHubHandler(ExtensionHandlerMixin, APIHandler):
    """Base of the panel's handlers: JSON answers, hub errors with their HTTP status."""

    @property
    def backend(self) -> HubBackend:
        backend: HubBackend = self.settings[BACKEND_KEY]
        return backend

    async def answer(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
        try:
            body = await self.backend.call(fn, *args, **kw)
        except HubError as exc:
            status = exc.status_code
            if isinstance(exc, AuthenticationError):
                status = 502  # the hub refused this server's token: not a Jupyter login problem
            payload = {**exc.to_dict(), "status": status}
            self.set_status(status)
            self.finish(json.dumps(payload, default=str))
            return
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Refusals of bad parameters in the hub's error shape (``status``, ``title``, ``detail``)."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, tornado.web.HTTPError) and status_code < 500:
            self.set_header("Content-Type", "application/json")
            body = {"status": status_code, "title": self._reason, "detail": exc.log_message or self._reason}
            self.finish(json.dumps(body))
            return
        super().write_error(status_code, **kwargs)

    def arg(self, name: str, default: str = "") -> str:
        return str(self.get_argument(name, default, strip=False))

    def int_arg(self, name: str, default: int) -> int:
        value = self.get_argument(name, None)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise tornado.web.HTTPError(400, f"{name}={value!r} is not an integer") from None

    def json_arg(self, name: str, default: Any) -> Any:
        value = self.get_argument(name, None)
        if value in (None, ""):
            return default
        try:
            return json.loads(value)
        except ValueError as exc:
            raise tornado.web.HTTPError(400, f"{name} is not valid JSON: {exc}") from None


class InfoHandler(MatterHubHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(self.backend.info)


class SearchHandler(MatterHubHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        filters = self.json_arg("filters", {})
        if not isinstance(filters, dict):
            raise tornado.web.HTTPError(400, "filters must be a JSON object of field -> list of values")
        await self.answer(
            self.backend.search,
            self.arg("q", "*"),
            facets=self.get_arguments("facet"),
            filters=filters,
            limit=self.int_arg("limit", 20),
            offset=self.int_arg("offset", 0),
            sort=self.arg("sort") or None,
            kinds=self.get_arguments("kind") or None,
        )


class RecordHandler(MatterHubHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(self.backend.record, self._id())

    def _id(self) -> str:
        value = self.arg("id")
        if not value:
            raise tornado.web.HTTPError(400, "the 'id' parameter is required")
        return value


class DatasetHandler(RecordHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(self.backend.dataset, self._id())


class FieldsHandler(MatterHubHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(self.backend.fields)


class ServablesHandler(MatterHubHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(
            self.backend.servables,
            self.arg("q", "*"),
            limit=self.int_arg("limit", 20),
            offset=self.int_arg("offset", 0),
        )


class ServableHandler(MatterHubHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        name = self.arg("name")
        if not name:
            raise tornado.web.HTTPError(400, "the 'name' parameter is required (owner/name)")
        await self.answer(self.backend.servable, name)


class SnippetHandler(MatterHubHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        kind = self.arg("kind")
        args = {
            k: self.arg(k) for k in ("id", "entry", "name", "inputs", "parameters", "q", "filters", "limit")
        }
        await self.answer(self.backend.snippet, kind, {k: v for k, v in args.items() if v})


def handlers() -> list[tuple[str, type[MatterHubHandler]]]:
    """The URL patterns (the extension app prefixes the server's base URL)."""
    return [
        (r"/matterhub/info", InfoHandler),
        (r"/matterhub/search", SearchHandler),
        (r"/matterhub/record", RecordHandler),
        (r"/matterhub/dataset", DatasetHandler),
        (r"/matterhub/fields", FieldsHandler),
        (r"/matterhub/servables", ServablesHandler),
        (r"/matterhub/servable", ServableHandler),
        (r"/matterhub/snippet", SnippetHandler),
    ]
