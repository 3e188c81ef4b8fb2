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


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(f"MATTERHUB_SERVICE_{name}")
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(f"MATTERHUB_SERVICE_{name}")
    return default if value is None else int(value)


@dataclass
class ServiceSettings:
    """The limits and options of one service, filled in from the environment.

    A setting left at its default (0, False or empty) is read from
    ``MATTERHUB_SERVICE_MAX_UPLOAD_BYTES`` (default 10 GiB),
    ``MATTERHUB_SERVICE_ALLOW_PRIVATE_URLS``, ``MATTERHUB_SERVICE_MAX_RUN_TIMEOUT_S``
    (default 3600), ``MATTERHUB_SERVICE_MAX_RUN_MEMORY_MB`` (default 16384) and
    ``MATTERHUB_SERVICE_APIS`` (default ``globus,optimade``).
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

    def __post_init__(self) -> None:
        if not self.max_upload_bytes:
            self.max_upload_bytes = _env_int("MAX_UPLOAD_BYTES", 10 * 1024**3)
        self.allow_private_urls = self.allow_private_urls or _env_bool("ALLOW_PRIVATE_URLS", False)
        if not self.max_run_timeout_s:
            self.max_run_timeout_s = float(_env_int("MAX_RUN_TIMEOUT_S", 3600))
        if not self.max_run_memory_mb:
            self.max_run_memory_mb = _env_int("MAX_RUN_MEMORY_MB", 16 * 1024)
        if not self.apis:
            value = os.environ.get("MATTERHUB_SERVICE_APIS", "globus,optimade")
            self.apis = tuple(a.strip() for a in value.split(",") if a.strip())

    def check_source_url(self, url: str) -> None:
        """Refuse a URL the service may not read, unless :attr:`allow_private_urls`.

        Only http(s), ftp and object-store URLs (s3, gs, gcs, az, abfs) are read; the host
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
