"""The service's settings.

From command-line options of ``matterhub serve``, or environment variables
``MATTERHUB_SERVICE_<NAME>``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from hub.connect.urlguard import refused_address
from hub.exceptions import AccessDeniedError
from hub.index.limits import QueryLimits
from hub.optimade.provider import is_provider, provider_url
from hub.servables.codec import DecodeLimits


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(f"MATTERHUB_SERVICE_{name}")
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(f"MATTERHUB_SERVICE_{name}")
    return default if value is None else int(value)


#: The numeric settings and their defaults (each read from ``MATTERHUB_SERVICE_<NAME>`` when not given).
DEFAULTS: dict[str, int] = {
    "max_upload_bytes": 10 * 1024**3,
    "max_run_timeout_s": 3600,
    "max_run_memory_mb": 16 * 1024,
    "max_body_bytes": 1024**2,
    "max_run_body_bytes": 32 * 1024**2,
    "max_json_depth": 64,
    "max_query_length": QueryLimits.max_length,
    "max_query_clauses": QueryLimits.max_clauses,
    "max_query_patterns": QueryLimits.max_patterns,
    "max_query_depth": QueryLimits.max_depth,
    "max_facets": 16,
    "max_facet_size": 10_000,
    "max_histogram_buckets": 1_000,
    "max_run_input_tags": DecodeLimits.max_tags,
}


@dataclass
class ServiceSettings:
    """The limits and options of one service, filled in from the environment.

    A setting left at its default (0, False or empty) is read from
    ``MATTERHUB_SERVICE_<NAME>``, the name in capitals (``MATTERHUB_SERVICE_MAX_BODY_BYTES``),
    else it takes the default in :data:`DEFAULTS`; ``apis`` from ``MATTERHUB_SERVICE_APIS``
    (default ``globus,optimade``) and ``allow_private_urls`` from
    ``MATTERHUB_SERVICE_ALLOW_PRIVATE_URLS``.

    The limits on requests (``max_body_bytes`` to ``max_run_input_tags``) are checked
    before the work they bound: a body's size while it arrives, its nesting before it
    is decoded, a query's size before it is parsed (see :mod:`hub.service.limits`).
    """

    #: The largest upload accepted (bytes).
    max_upload_bytes: int = 0
    #: Let URL submissions read loopback, private and link-local addresses (off: SSRF guard).
    allow_private_urls: bool = False
    #: Threads running submissions.
    submission_threads: int = 1
    #: Admin user created at first start, whose token is printed once (``matterhub serve``).
    admin: str = "admin"
    #: The other APIs to serve besides MatterHub's own (``MATTERHUB_SERVICE_APIS=globus,optimade``).
    apis: tuple[str, ...] = ()
    #: The longest timeout a caller may ask for one servable run (seconds).
    max_run_timeout_s: float = 0.0
    #: The most memory a caller may ask for one servable run (MB).
    max_run_memory_mb: int = 0
    #: The largest request body, uploads and servable runs aside (bytes; 413 past it).
    max_body_bytes: int = 0
    #: The largest body of a servable run request (bytes; 413 past it).
    max_run_body_bytes: int = 0
    #: The deepest nesting of lists and objects in a JSON body (400 past it).
    max_json_depth: int = 0
    #: The longest query (characters): ``q`` of the search routes, an OPTIMADE ``filter``.
    max_query_length: int = 0
    #: The most words, phrases and regular expressions in one query (Lucene's default: 1,024).
    max_query_clauses: int = 0
    #: The most wildcards, regular expressions and fuzzy words in one query.
    max_query_patterns: int = 0
    #: The deepest nesting of one query (parentheses, NOT, -, +, field:).
    max_query_depth: int = 0
    #: The most facets one search may ask for.
    max_facets: int = 0
    #: The most values one terms facet may give.
    max_facet_size: int = 0
    #: The most histogram buckets one search may ask for, over all its histogram facets (a Globus
    #: numeric_histogram bucket is one count of the index each).
    max_histogram_buckets: int = 0
    #: The most tagged values (arrays, bytes, special numbers) in one run's inputs.
    max_run_input_tags: int = 0

    def __post_init__(self) -> None:
        for name, default in DEFAULTS.items():
            if not getattr(self, name):
                number = _env_int(name.upper(), default)
                setattr(self, name, float(number) if name.endswith("_s") else number)
        self.allow_private_urls = self.allow_private_urls or _env_bool("ALLOW_PRIVATE_URLS", False)
        if not self.apis:
            value = os.environ.get("MATTERHUB_SERVICE_APIS", "globus,optimade")
            self.apis = tuple(a.strip() for a in value.split(",") if a.strip())

    @property
    def query_limits(self) -> QueryLimits:
        """The limits on one query (``max_query_*``)."""
        return QueryLimits(
            max_length=self.max_query_length,
            max_clauses=self.max_query_clauses,
            max_patterns=self.max_query_patterns,
            max_depth=self.max_query_depth,
        )

    @property
    def decode_limits(self) -> DecodeLimits:
        """The limits on decoding one run's inputs (``max_json_depth``, ``max_run_input_tags``)."""
        return DecodeLimits(max_depth=self.max_json_depth, max_tags=self.max_run_input_tags)

    def check_source_url(self, url: str) -> None:
        """Refuse a URL the service may not read, unless :attr:`allow_private_urls`.

        Only http(s), ftp and object-store URLs (s3, gs, gcs, az, abfs) and OPTIMADE providers
        (``optimade+https://``, checked as their base URL) are read; the host
        of an http(s) or ftp URL must resolve, and to no loopback, private, link-local or
        reserved address.  Object-store bucket names are not resolved.

        Raises
        ------
        AccessDeniedError
            A URL of another scheme, without a host, whose host does not resolve, or
            resolves to a refused address.
        """
        if self.allow_private_urls:
            return
        if is_provider(url):  # an OPTIMADE provider to harvest: its base URL is what is read
            url = provider_url(url)
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https", "ftp", "s3", "gs", "gcs", "az", "abfs"):
            raise AccessDeniedError(f"the service does not read {parts.scheme!r} URLs")
        host = parts.hostname
        if not host:
            raise AccessDeniedError(f"{url!r} names no host")
        if parts.scheme.lower() in ("s3", "gs", "gcs", "az", "abfs"):
            return  # bucket names, resolved by the object store's own endpoint
        try:
            infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise AccessDeniedError(f"cannot resolve {host!r}: {exc}") from None
        for info in infos:
            self.check_address(host, str(info[4][0]))

    def check_address(self, host: str, address: str) -> None:
        """Refuse one address ``host`` resolved to, unless :attr:`allow_private_urls`.

        Also called at download time, against DNS rebinding and redirects
        (:mod:`hub.connect.urlguard`).

        Raises
        ------
        AccessDeniedError
            A loopback, private, link-local or reserved ``address``.
        """
        if not self.allow_private_urls and refused_address(address):
            raise AccessDeniedError(
                f"{host} resolves to {address}, a loopback/private address: URL submissions may not "
                "reach the service's own network (an admin can allow it with --allow-private-urls)"
            )
