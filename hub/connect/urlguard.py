"""Refusing URL sources that reach private addresses, at the moment of connecting.

The hub service checks a submitted URL when it is submitted
(:meth:`hub.service.settings.ServiceSettings.check_source_url`), but the download
happens later, and a name can resolve to a public address for the check and to
``127.0.0.1`` for the download (DNS rebinding), or the server can redirect to a private
address.  So the service sets :data:`ADDRESS_GUARD` around the submissions it runs, and
:func:`guarded_storage_options` gives fsspec's HTTP filesystem an aiohttp client whose
resolver passes every address it resolves, and whose requests pass every host they go
to (redirects included), through the guard, right before the connection is made.

The embedded hub sets no guard: a user submitting ``http://localhost:8000/data`` from
their own notebook reaches their own machine, as they asked.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable
from contextvars import ContextVar
from functools import partial
from typing import Any

from hub.exceptions import HubError, SourceError

#: ``guard(host, address)`` raises (an AccessDeniedError) when ``address`` may not be reached.
AddressGuard = Callable[[str, str], None]

#: The guard of the submission running in this thread (None: no restriction).
ADDRESS_GUARD: ContextVar[AddressGuard | None] = ContextVar("matterhub_address_guard", default=None)

HTTP_PROTOCOLS = ("http", "https")


def refused_address(address: str) -> bool:
    """Whether ``address`` is loopback, private, link-local, reserved, multicast or unspecified.

    IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry; an IPv6 zone
    (``%eth0``) is ignored.

    Raises
    ------
    ValueError
        When ``address`` is not an IP address.
    """
    addr = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return bool(
        addr.is_loopback
        or addr.is_private
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_multicast
        or addr.is_unspecified
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def guarded_storage_options(protocol: str) -> dict[str, Any]:
    """The fsspec storage options that enforce the current :data:`ADDRESS_GUARD`.

    For HTTP(S) under a guard, a client whose resolver and requests (redirects included)
    check every address; empty for other protocols and without a guard.
    """
    guard = ADDRESS_GUARD.get()
    if guard is None or protocol not in HTTP_PROTOCOLS:
        return {}
    return {"get_client": partial(_guarded_client, guard), "skip_instance_cache": True}


async def _guarded_client(guard: AddressGuard, **kwargs: Any) -> Any:
    import aiohttp
    import yarl
    from aiohttp.resolver import DefaultResolver

    class GuardedResolver(aiohttp.abc.AbstractResolver):
        def __init__(self) -> None:
            self._inner = DefaultResolver()

        async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> Any:
            results = await self._inner.resolve(host, port, family)
            for r in results:
                _check(guard, host, r["host"])
            return results

        async def close(self) -> None:
            await self._inner.close()

    async def on_request_start(session: Any, ctx: Any, params: Any) -> None:
        host = params.url.host or ""
        if _is_ip(host):  # aiohttp does not resolve an address: check it here
            _check(guard, host, host.strip("[]"))

    async def on_request_redirect(session: Any, ctx: Any, params: Any) -> None:
        location = params.response.headers.get("Location")
        if location:  # the next hop, checked here when it names an address
            host = params.url.join(yarl.URL(location)).host or ""
            if _is_ip(host):
                _check(guard, host, host.strip("[]"))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    trace.on_request_redirect.append(on_request_redirect)
    connector = aiohttp.TCPConnector(resolver=GuardedResolver())
    return aiohttp.ClientSession(connector=connector, trace_configs=[trace], **kwargs)


class AddressRefused(OSError):
    """The guard refused an address (an OSError: what aiohttp expects from resolving)."""


def _check(guard: AddressGuard, host: str, address: str) -> None:
    try:
        guard(host, address)
    except Exception as exc:
        raise AddressRefused(errno.EACCES, getattr(exc, "message", None) or str(exc)) from exc


def refusal_in(exc: BaseException) -> str | None:
    """The guard's message if ``exc`` (or what caused it: fsspec and aiohttp wrap it) is a refusal."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, AddressRefused):
            return str(e.strerror)
        todo += [e.__cause__, e.__context__, getattr(e, "os_error", None)]
    return None


def unreadable_source(exc: BaseException, source: str, refused: type[HubError] = SourceError) -> HubError:
    """What a failed first look at ``source`` (fsspec's ``info`` or listing) tells its submitter.

    A refusal of the address guard as ``refused`` (a :class:`SourceError` unless the caller
    says otherwise), a missing source as "does not exist", anything else as "cannot be reached".
    """
    reason = refusal_in(exc)
    if reason:
        return refused(f"source {source!r} was not read: {reason}")
    if isinstance(exc, FileNotFoundError):
        return SourceError(f"source {source!r} does not exist")
    return SourceError(f"source {source!r} cannot be reached: {exc}")


#: Object stores: the "host" is a bucket, served by the store's own endpoint.
BUCKET_PROTOCOLS = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl")


def check_before_fetch(url: str) -> None:
    """Check the addresses of a non-HTTP URL's host right before it is fetched, under a guard.

    The host is resolved again and each address passed to the current
    :data:`ADDRESS_GUARD`, which raises for one it refuses.  HTTP is checked at connection
    time instead (:func:`guarded_storage_options`); object-store URLs
    (:data:`BUCKET_PROTOCOLS`), URLs without a host and hosts that do not resolve are not
    checked here.
    """
    from urllib.parse import urlsplit

    guard = ADDRESS_GUARD.get()
    parts = urlsplit(url)
    protocol = parts.scheme.lower()
    if guard is None or protocol in HTTP_PROTOCOLS or protocol in BUCKET_PROTOCOLS or not parts.hostname:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 0, proto=socket.IPPROTO_TCP)
    except OSError:
        return  # the fetch itself will fail to resolve it
    for info in infos:
        guard(parts.hostname, str(info[4][0]))
