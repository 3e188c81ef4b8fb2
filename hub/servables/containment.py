"""Containing published code: what a servable's worker may reach, as the hub decides it.

A shared hub (``matterhub serve``) runs code its users published; that code must not
reach the hub.  A *contained* worker process serves one servable version for its whole
life and, before it imports anything (:mod:`hub.servables.contained`):

- gets a **scrubbed environment** (:func:`worker_environment`): no database URL, token,
  store location or anything else of the hub's; ``HOME`` and ``TMPDIR`` are its work folder;
- runs as an **unprivileged user** when the hub runs as root (:attr:`Containment.user`,
  ``nobody`` by default) if that user can read Python and the servable, else as root in a
  **user namespace** that holds no capability over the machine;
- sees **no other process** (a pid namespace with a /proc of its own: not the hub's
  command line, environment or files), where user namespaces are allowed;
- has **no network** (a network namespace with only its own loopback) unless the servable
  declares that it needs the network and the admin allows it (:attr:`Containment.network`);
  where user namespaces are not allowed, Landlock refuses TCP instead;
- is **not dumpable** (``PR_SET_DUMPABLE``: other processes of its user cannot read its
  memory or environment) and has a hard **CPU-time limit** (``RLIMIT_CPU``) besides the
  memory limits every worker has;
- is fenced by **Landlock** (:mod:`hub.servables.landlock`): it reads only Python, the
  libraries, a few system files and its own servable's unpacked artifact; it writes only its
  work folder (and creates shared-memory files it cannot list); abstract unix sockets and
  signals stay inside its domain.  It cannot read the hub folder, the catalog,
  ``config.json``, tokens, other servables' artifacts or other processes' memory.

Where the kernel has no Landlock the worker refuses to run (``require``), unless the admin
started the service with ``--allow-uncontained-servables``.  What each worker got is its
*report* (:func:`probe` runs one without a servable), which ``matterhub serve`` prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ENV_SKIP = "MATTERHUB_CONTAINMENT_SKIP"
ENV_USER = "MATTERHUB_SERVABLE_USER"
ENV_MAX_CPU = "MATTERHUB_WORKER_MAX_CPU_S"

#: The mechanisms :attr:`Containment.skip` may name.
MECHANISMS = frozenset({"landlock", "user", "userns", "netns", "pidns"})

#: Environment variables a contained worker keeps (exact names).
KEPT_NAMES = frozenset(
    {
        "PATH",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "PYTHONPATH",
        "PYTHONHASHSEED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "KERAS_BACKEND",
        "JAX_PLATFORMS",
        "JAX_ENABLE_X64",
        "XLA_FLAGS",
        "TF_CPP_MIN_LOG_LEVEL",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "MATTERHUB_WORKERS",
        "MATTERHUB_RUN_MAX_PROCS",
        "MATTERHUB_MAX_LOADED",
        #: tests tag their servers' processes with it to find them (a label, not a secret)
        "MATTERHUB_TEST_TAG",
    }
)
#: Prefixes of environment variables a contained worker keeps.
KEPT_PREFIXES = ("LC_",)

#: System paths a contained worker reads (and runs programs from); missing ones are skipped.
SYSTEM_READ = (
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/crypto-policies",
    "/etc/alternatives",
    "/etc/fonts",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/mime.types",
    "/etc/os-release",
    "/etc/matplotlibrc",
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup",
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
)


def _skip_default() -> frozenset[str]:
    names = {s.strip() for s in os.environ.get(ENV_SKIP, "").split(",") if s.strip()}
    unknown = names - MECHANISMS
    if unknown:
        raise ValueError(
            f"{ENV_SKIP} names unknown mechanisms {sorted(unknown)}; known: {sorted(MECHANISMS)}"
        )
    return frozenset(names)


@dataclass(frozen=True)
class Containment:
    """How a hub contains the servables it runs (one setting for all its workers).

    Parameters
    ----------
    require
        Refuse to run a servable where its files cannot be contained (no Landlock).
        ``matterhub serve --allow-uncontained-servables`` turns it off.
    network
        Let servables that declare ``network`` in their limits reach the network (the
        admin's choice); the others never do.
    user
        The unprivileged user workers run as when the hub runs as root
        (``$MATTERHUB_SERVABLE_USER``, default ``nobody``); None keeps root in a user
        namespace.
    max_cpu_s
        The hard CPU-time limit of one worker process (``$MATTERHUB_WORKER_MAX_CPU_S``,
        default 4 hours); a worker past 80 % of it is replaced after its run.
    skip
        Mechanisms not to use (``$MATTERHUB_CONTAINMENT_SKIP``, comma-separated:
        ``landlock``, ``user``, ``userns``, ``netns``, ``pidns``): for a kernel where one misbehaves.
        Skipping ``landlock`` makes runs refused unless ``require`` is off.
    hidden
        Paths no worker may read even by accident (the hub folder, its store): a worker
        whose readable paths would include one refuses to start.
    """

    require: bool = True
    network: bool = False
    user: str | None = field(default_factory=lambda: os.environ.get(ENV_USER, "nobody") or None)
    max_cpu_s: int = field(default_factory=lambda: int(os.environ.get(ENV_MAX_CPU, str(4 * 3600))))
    skip: frozenset[str] = field(default_factory=_skip_default)
    hidden: tuple[str, ...] = ()

    def with_hidden(self, paths: Iterable[str | os.PathLike[str]]) -> Containment:
        """The same containment, also hiding ``paths`` (absolute, symlinks resolved)."""
        extra = tuple(os.path.realpath(os.fspath(p)) for p in paths)
        return Containment(
            self.require, self.network, self.user, self.max_cpu_s, self.skip, self.hidden + extra
        )


@dataclass(frozen=True)
class Binding:
    """The one servable version a contained worker serves.

    Parameters
    ----------
    key
        The version's key (``owner/name@version:sha``).
    mount
        Its unpacked artifact (read-only for the worker).
    network
        Whether this worker may reach the network (the servable declares it and the
        hub's :attr:`Containment.network` allows it).
    python
        The interpreter of the version's own environment ("": the hub's).
    reads
        More folders the worker reads: the hub's site-packages that environment extends.
    """

    key: str
    mount: str
    network: bool = False
    python: str = ""
    reads: tuple[str, ...] = ()


def worker_environment(
    base: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a contained worker starts with: :data:`KEPT_NAMES` and ``LC_*`` only.

    Parameters
    ----------
    base
        The environment to filter (default: this process's).
    extra
        Variables to set on top (the worker's own settings).
    """
    env = os.environ if base is None else base
    kept = {k: v for k, v in env.items() if k in KEPT_NAMES or k.startswith(KEPT_PREFIXES)}
    kept.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    kept.update(extra or {})
    return kept


def launch_config(
    containment: Containment, binding: Binding | None, work_root: str, worker: Mapping[str, Any]
) -> dict[str, Any]:
    """What :mod:`hub.servables.contained` reads from its command line (plain JSON data)."""
    return {
        "containment": {**asdict(containment), "skip": sorted(containment.skip)},
        "binding": asdict(binding) if binding is not None else None,
        "work_root": work_root,
        "worker": dict(worker),
    }


def launch_command(fd: int | None = None, python: str = "") -> list[str]:
    """The command line of a contained worker on socket ``fd`` (None: a probe that prints its report).

    Its configuration (:func:`launch_config`) is the first message on the socket (a probe
    reads it on its standard input), so no path of the hub shows in the process list.
    ``python``: the interpreter of a servable's own environment ("": the hub's).
    """
    return [python or sys.executable, "-m", "hub.servables.contained", "--probe" if fd is None else str(fd)]


def hub_package_root() -> str:
    """The folder holding the ``hub`` package (put on a worker's ``PYTHONPATH``)."""
    return str(Path(__file__).resolve().parents[2])


def probe(containment: Containment, timeout: float = 60.0) -> dict[str, Any]:
    """Start a contained worker with no servable and return its report (what took effect).

    The report has ``landlock`` (the ABI), ``files``, ``tcp``, ``scopes`` (what Landlock
    applied), ``user`` (the user it ran as), ``userns``, ``netns``, ``network``,
    ``cpu_s``, ``dumpable``, ``refused`` (why it would refuse to run servables, or
    None) and ``notes`` (why a mechanism was not used).
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="matterhub-probe-") as root:
        os.chmod(root, 0o711)
        config = launch_config(containment, None, root, {})
        extra = {
            "PYTHONPATH": os.pathsep.join(p for p in (hub_package_root(), os.environ.get("PYTHONPATH")) if p)
        }
        done = subprocess.run(
            launch_command(),
            input=json.dumps(config).encode(),
            env=worker_environment(extra=extra),
            cwd=root,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    lines = [line for line in done.stdout.decode(errors="replace").splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(
            f"the containment probe printed no report: {done.stderr.decode(errors='replace')[-2000:]}"
        )
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def describe(report: Mapping[str, Any]) -> str:
    """One line saying what a worker's containment report holds, for people."""
    if report.get("refused"):
        return f"servables are NOT run: {report['refused']}"
    parts = []
    if report.get("files"):
        kinds = ["files"] + (["TCP"] if report.get("tcp") else [])
        kinds += ["signals and abstract sockets"] if report.get("scopes") else []
        parts.append(f"Landlock ABI {report.get('landlock')} ({', '.join(kinds)})")
    else:
        parts.append("files NOT contained (no Landlock)")
    parts.append(f"runs as {report.get('user')}")
    if report.get("pidns"):
        parts.append("no other process visible (a pid namespace)")
    if report.get("netns"):
        parts.append("no network (a namespace of its own)")
    elif report.get("network"):
        parts.append("network allowed")
    else:
        parts.append("no TCP (Landlock)" if report.get("tcp") else "network NOT contained")
    parts.append(f"CPU time at most {report.get('cpu_s')} s per worker")
    if not report.get("dumpable", True):
        parts.append("not dumpable")
    parts.append("scrubbed environment")
    return "; ".join(parts)
