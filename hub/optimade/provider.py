"""Paging an OPTIMADE provider's ``structures`` endpoint, politely.

A source ``optimade+https://provider.example/`` names a provider by its base URL
(:func:`provider_url`).  :class:`ProviderClient` pages its ``structures`` endpoint
(the versioned ``/v1/structures``, else the unversioned one): it follows
``links.next``, asks for the page size the provider allows (a provider that refuses
a ``page_limit`` says its maximum, and the client asks again with it), and retries a
``429`` or a ``5xx`` answer, or a connection that failed, after the provider's
``Retry-After`` or an exponential backoff (:class:`Backoff`).

Under the hub service every request (each redirect included) first passes the host's
addresses through the current :data:`hub.connect.urlguard.ADDRESS_GUARD`, which refuses
private addresses unless the service allows them.

This module needs only ``httpx`` (a core dependency).
"""

from __future__ import annotations

import contextvars
import re
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from hub.connect.urlguard import ADDRESS_GUARD
from hub.exceptions import SourceError

#: How a source naming an OPTIMADE provider starts.
SCHEME_PREFIX = "optimade+"
#: HTTP statuses retried after a pause: too many requests, and the server's own failures.
RETRIED = frozenset({429, 500, 502, 503, 504})
#: The page size asked for unless the provider allows less.
PAGE_LIMIT = 100
_MAX_ALLOWED = re.compile(r"page_limit[^0-9]*?(\d+)", re.IGNORECASE)


def is_provider(source: str) -> bool:
    """Whether a submission's ``source`` names an OPTIMADE provider (``optimade+http(s)://``)."""
    return source.lower().startswith((SCHEME_PREFIX + "http://", SCHEME_PREFIX + "https://"))


def provider_url(source: str) -> str:
    """The provider's base URL of an ``optimade+`` source, without a trailing slash.

    >>> provider_url("optimade+https://optimade.example.org/v1/")
    'https://optimade.example.org/v1'

    Raises
    ------
    SourceError
        When ``source`` is not ``optimade+http(s)://HOST/...``.
    """
    if not is_provider(source):
        raise SourceError(
            f"{source!r} does not name an OPTIMADE provider; give its base URL as optimade+https://HOST/PATH"
        )
    url = source[len(SCHEME_PREFIX) :].rstrip("/")
    if not urlsplit(url).hostname:
        raise SourceError(f"{source!r} names no host")
    return url


@dataclass(frozen=True)
class Backoff:
    """How often, and after how long, a failed request is tried again.

    Attributes
    ----------
    attempts
        Requests made at most for one page (the first one included).
    first
        Seconds to wait before the second attempt; each next wait is ``factor`` times longer.
    factor
        The growth of the wait.
    cap
        The longest wait (seconds), a provider's ``Retry-After`` included.
    """

    attempts: int = 6
    first: float = 1.0
    factor: float = 2.0
    cap: float = 60.0

    def wait(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 for the first).

        A ``Retry-After`` of a number of seconds is honoured, up to :attr:`cap`.
        """
        if retry_after is not None:
            try:
                return min(self.cap, max(0.0, float(retry_after)))
            except ValueError:
                pass  # an HTTP date: wait as for any failure
        return min(self.cap, self.first * self.factor ** (attempt - 1))


#: The backoff of a harvest unless told otherwise.
DEFAULT_BACKOFF = Backoff()


@dataclass
class Page:
    """One page of a provider's answer.

    Attributes
    ----------
    url
        The URL that was read.
    entries
        Its ``data``: the structure resources.
    next
        ``links.next``: the URL of the next page, None on the last.
    meta
        The response's ``meta`` (``data_available``, ``data_returned``, ``provider``, ...).
    """

    url: str
    entries: list[dict[str, Any]]
    next: str | None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        """The endpoint that answered: :attr:`url` without its query."""
        return str(httpx.URL(self.url).copy_with(query=None))


class ProviderClient:
    """A client of one OPTIMADE provider.

    Parameters
    ----------
    base
        The provider's base URL (:func:`provider_url`), with or without its ``/v1``.
    backoff
        When to try a failed request again.
    page_limit
        The page size to ask for (lowered to what the provider allows).
    sleep
        How to wait between attempts (tests pass a recorder).
    timeout
        Seconds to wait for one answer.
    """

    def __init__(
        self,
        base: str,
        *,
        backoff: Backoff = DEFAULT_BACKOFF,
        page_limit: int = PAGE_LIMIT,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60.0,
    ) -> None:
        self.base = base.rstrip("/")
        self.backoff = backoff
        self.page_limit = page_limit
        self.sleep = sleep
        #: Requests made, retries included.
        self.requests = 0
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            headers={"Accept": "application/vnd.api+json, application/json"},
            event_hooks={"request": [_guard_request]},
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> ProviderClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def endpoints(self) -> list[str]:
        """Where the ``structures`` endpoint may be, in the order asked."""
        if re.search(r"/v\d+(\.\d+){0,2}$", self.base):
            return [f"{self.base}/structures"]
        return [f"{self.base}/v1/structures", f"{self.base}/structures"]

    def first_page(self, filter: str | None = None, *, page_limit: int | None = None) -> Page:
        """The first page of ``filter`` (every structure when None) from the first endpoint that answers.

        The page is also the probe of the endpoint (:meth:`endpoints`; a ``404`` tries the
        next): a harvest asks nothing before its first page.
        """
        params: dict[str, Any] = {"page_limit": page_limit or self.page_limit}
        if filter:
            params["filter"] = filter
        *probes, last = self.endpoints()
        for url in probes:
            answer = self.answer(url, params)
            if answer.status_code != 404:
                return _page(answer)
        return _page(self.answer(last, params))

    def pages(self, filter: str | None = None, start: str | None = None) -> Iterator[Page]:
        """The pages of the structures matching ``filter`` (every structure when None).

        ``start``: the URL of the page to begin with (a ``links.next`` kept from an
        interrupted harvest); the first page of the query when None.

        Raises
        ------
        SourceError
            When the provider keeps failing, refuses the query, or answers with what is
            not an OPTIMADE response.
        """
        seen: set[str] = set()
        # one page ahead: the next page downloads while the caller handles this one, in the
        # caller's context (the address guard is a context variable: each page passes it)
        context = contextvars.copy_context()
        with ThreadPoolExecutor(1, thread_name_prefix="matterhub-optimade-page") as ahead:
            if start:
                pending = ahead.submit(context.run, self.page, start)
            else:
                pending = ahead.submit(context.run, self.first_page, filter)
            while True:
                page = pending.result()
                last = page.next is None or page.next in seen or not page.entries
                if not last:
                    assert page.next is not None
                    seen.add(page.next)
                    pending = ahead.submit(context.run, self.page, page.next)
                yield page
                if last:
                    return

    def page(self, url: str, params: dict[str, Any] | None = None) -> Page:
        """One page: ``url`` with ``params``; a refused ``page_limit`` is asked again as the provider allows."""
        return _page(self.answer(url, params))

    def answer(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """The provider's answer to ``url`` with ``params``, a refused ``page_limit`` asked again as allowed."""
        answer = self._get(url, params)
        if answer.status_code in (400, 403) and params and "page_limit" in params:
            allowed = _allowed_page_limit(answer, int(params["page_limit"]))
            if allowed is not None:
                self.page_limit = allowed
                answer = self._get(url, {**params, "page_limit": allowed})
        return answer

    def _get(self, url: str, params: dict[str, Any] | None) -> httpx.Response:
        """``GET url``, tried again after a pause on a retried status or a failed connection."""
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                answer = self._http.get(url, params=params)
            except httpx.TransportError as exc:
                refused = _refusal(exc)
                if refused:
                    raise SourceError(f"{url} was not read: {refused}") from None
                if attempt >= self.backoff.attempts:
                    raise SourceError(f"{url} cannot be reached after {attempt} attempts: {exc}") from exc
                self.sleep(self.backoff.wait(attempt))
                continue
            if answer.status_code not in RETRIED:
                return answer
            if attempt >= self.backoff.attempts:
                raise SourceError(
                    f"{answer.url} answered {answer.status_code} {answer.reason_phrase} "
                    f"{attempt} times; try again later (hub.retry continues where it stopped)"
                )
            self.sleep(self.backoff.wait(attempt, answer.headers.get("Retry-After")))


class _Refused(httpx.TransportError):
    """The address guard refused the host of a request."""


def _guard_request(request: httpx.Request) -> None:
    """Pass every address of the request's host through the current guard (none: nothing to check)."""
    guard = ADDRESS_GUARD.get()
    host = request.url.host
    if guard is None or not host:
        return
    try:
        infos = socket.getaddrinfo(host, request.url.port or 0, proto=socket.IPPROTO_TCP)
    except OSError:
        return  # the request itself fails to resolve it
    for info in infos:
        try:
            guard(host, str(info[4][0]))
        except Exception as exc:
            raise _Refused(getattr(exc, "message", None) or str(exc), request=request) from exc


def _refusal(exc: BaseException) -> str | None:
    return str(exc) if isinstance(exc, _Refused) else None


def _allowed_page_limit(answer: httpx.Response, asked: int) -> int | None:
    """The page size a provider that refused ``asked`` allows: the number its error names, else half."""
    try:
        errors = answer.json().get("errors") or []
    except ValueError:
        return None
    details = " ".join(str(e.get("detail", "")) for e in errors if isinstance(e, dict))
    if "page_limit" not in details:
        return None
    numbers = [int(n) for n in _MAX_ALLOWED.findall(details) if 0 < int(n) < asked]
    return min(numbers) if numbers else (asked // 2 or None)


def _page(answer: httpx.Response) -> Page:
    """The page an answer holds, or a SourceError saying why it holds none."""
    body = _body(answer)
    links = body.get("links") or {}
    nxt = links.get("next") if isinstance(links, dict) else None
    if isinstance(nxt, dict):
        nxt = nxt.get("href")
    data = body.get("data")
    if not isinstance(data, list):
        raise SourceError(f"{answer.url} answered without a list of entries; is it an OPTIMADE provider?")
    meta = body.get("meta")
    return Page(
        url=str(answer.url),
        entries=[e for e in data if isinstance(e, dict)],
        next=nxt if isinstance(nxt, str) and nxt else None,
        meta=meta if isinstance(meta, dict) else {},
    )


def _body(answer: httpx.Response) -> dict[str, Any]:
    """The JSON body of an answer, or a SourceError saying what the provider said."""
    try:
        body = answer.json()
    except ValueError:
        raise SourceError(
            f"{answer.url} answered {answer.status_code} with what is not JSON; is it an OPTIMADE provider?"
        ) from None
    if not isinstance(body, dict):
        raise SourceError(f"{answer.url} answered with what is not an OPTIMADE response")
    if answer.status_code >= 400:
        errors = body.get("errors") or []
        detail = "; ".join(str(e.get("detail") or e.get("title")) for e in errors if isinstance(e, dict))
        raise SourceError(
            f"{answer.url} refused the query ({answer.status_code}): {detail or answer.text[:200]}"
        )
    return body
