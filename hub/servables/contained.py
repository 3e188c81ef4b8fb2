"""A contained worker process: ``python -m hub.servables.contained FD``.

It contains itself while it is still one thread and has imported nothing but the
standard library (:mod:`hub.servables.containment` says what and why), then becomes an
ordinary pool worker (:func:`hub.servables.worker.worker_main`) bound to one servable.
Its configuration is the first message on the socket; its greeting to the hub carries
its report (what took effect).  With ``--probe`` in place of the socket it reads the
configuration on its standard input, contains itself the same way, checks a few things
it must not reach, prints the report as one JSON line and exits.

Order matters: the work folder is made (and handed to the worker's user) while the
process may still do so; the user is switched before namespaces are made (an
unprivileged user may make its own); capabilities are dropped once the namespaces are
set up; Landlock comes last, with ``PR_SET_NO_NEW_PRIVS``, so nothing run afterwards
can lift it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib.util
import json
import os
import pwd
import resource
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

from hub.servables import landlock

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNS = 0x00020000
_PR_SET_PDEATHSIG = 1
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_CAP_VERSION_3 = 0x20080522

#: Rights below /dev/shm: make, write and read files whose names one knows, but not list them.
_SHM_RIGHTS = landlock.MAKE_REG | landlock.WRITE_FILE | landlock.READ_FILE | landlock.REMOVE_FILE
_SHM_RIGHTS |= landlock.TRUNCATE


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _errno_text() -> str:
    return os.strerror(ctypes.get_errno())


# -- what a worker reads ----------------------------------------------------------------------


def python_paths() -> list[str]:
    """The folders of this Python and its libraries: prefixes, and the ``hub`` package itself.

    ``sys.path`` entries outside the prefixes (a source checkout on ``PYTHONPATH``) are not
    read whole: only the ``hub`` package folder in them is.
    """
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    import hub

    paths.add(str(Path(hub.__file__).resolve().parent))
    prefixes = tuple(os.path.realpath(p) for p in paths)
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and any(real == p or real.startswith(p + os.sep) for p in prefixes):
            paths.add(real)
    return sorted({os.path.realpath(p) for p in paths})


def readable_paths(binding: dict[str, Any] | None) -> list[str]:
    """Everything a worker may read: :func:`python_paths`, the system's, its artifact, /proc."""
    from hub.servables.containment import SYSTEM_READ

    paths = [*python_paths(), *SYSTEM_READ, "/proc"]
    if binding is not None:
        paths.append(binding["mount"])
        paths.extend(binding.get("reads") or ())  # the hub's libraries a servable's environment extends
    return paths


def _covers(path: str, hidden: str) -> bool:
    return hidden == path or hidden.startswith(path.rstrip(os.sep) + os.sep)


# -- the steps -----------------------------------------------------------------------------


def _switch_user(name: str, checks: list[str], work: Path, report: dict[str, Any]) -> bool:
    """As root: become ``name`` if that user can read ``checks``; else stay root (and say why)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        report["notes"].append(f"no user {name!r} on this machine")
        return False
    uid, gid = entry.pw_uid, entry.pw_gid
    os.chown(work, uid, gid)
    os.setgroups([])
    os.setresgid(gid, gid, 0)
    os.setresuid(uid, uid, 0)  # the saved id stays root until the checks pass
    failed = None
    for path in checks:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                with open(path, "rb") as f:
                    f.read(1)
        except OSError as exc:
            failed = f"{name} cannot read {path} ({exc.strerror})"
            break
    if failed is None:
        os.setresuid(uid, uid, uid)
        os.setresgid(gid, gid, gid)
        return True
    os.setresuid(0, 0, 0)
    os.setresgid(0, 0, 0)
    os.chown(work, 0, 0)
    report["notes"].append(failed)
    return False


def _python_path_shim(work: Path) -> None:
    """Let the processes a worker starts (notebook kernels, subprocesses) import ``hub``.

    A ``PYTHONPATH`` entry outside the Python prefixes (a source checkout) cannot be
    listed under Landlock, so its ``hub`` would not be found there: those entries are
    replaced by a folder of the worker's own holding a link to the ``hub`` package.
    """
    import hub

    shim = work / ".python"
    shim.mkdir()
    (shim / "hub").symlink_to(Path(hub.__file__).resolve().parent)
    prefixes = tuple(os.path.realpath(p) for p in (sys.prefix, sys.base_prefix))
    kept = [
        p
        for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
        if p and any(os.path.realpath(p).startswith(x + os.sep) for x in prefixes)
    ]
    os.environ["PYTHONPATH"] = os.pathsep.join([str(shim), *kept])


def _flag_names(flags: int) -> str:
    names = {_CLONE_NEWUSER: "user", _CLONE_NEWNET: "net", _CLONE_NEWPID: "pid", _CLONE_NEWNS: "mount"}
    return "+".join(n for f, n in names.items() if flags & f)


def _fork_into_namespace(fd: int | None) -> int:
    """Fork into the new pid namespace; in the child, return its pid as the hub sees it.

    The parent supervises: it leaves with the child's exit status (dying of the same
    signal, so the hub reads a crash as before), and kills the child and leaves when the
    hub that started it is gone.  The child dies with the parent (``PR_SET_PDEATHSIG``).
    """
    hub = os.getppid()
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(w)
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        with os.fdopen(r) as f:
            return int(f.read() or 0)
    os.close(r)
    os.write(w, str(child).encode())
    os.close(w)
    if fd is not None:
        os.close(fd)  # the hub must see the worker's end close when the worker goes
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda num, _frame: os.kill(child, signal.SIGKILL))
    while True:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            break
        if os.getppid() != hub:
            os.kill(child, signal.SIGKILL)
        time.sleep(0.2)
    if os.WIFSIGNALED(status):
        died_of = os.WTERMSIG(status)
        if died_of not in (signal.SIGKILL, signal.SIGSTOP):  # these two cannot be handled at all
            signal.signal(died_of, signal.SIG_DFL)
        os.kill(os.getpid(), died_of)
    os._exit(os.waitstatus_to_exitcode(status) if not os.WIFSIGNALED(status) else 70)


def _mount_own_proc() -> None:
    """Make the mounts private, then mount a /proc of the new pid namespace over /proc."""
    libc = _libc()
    if libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "making the mounts private: " + _errno_text())
    if libc.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None) != 0:
        raise OSError(ctypes.get_errno(), "mounting /proc: " + _errno_text())


def _unshare(flags: int) -> bool:
    return bool(_libc().unshare(flags) == 0)


def _loopback_up() -> None:
    """Bring up ``lo`` in the worker's own network namespace (kernels talk over it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _drop_capabilities() -> bool:
    header = _CapHeader(_CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    return bool(_libc().capset(ctypes.byref(header), data) == 0)


def contain(config: dict[str, Any], fd: int | None = None) -> tuple[dict[str, Any], Path]:
    """Contain this process as ``config`` says; the report and the work folder.

    ``report["refused"]`` is set (and the caller must not run servable code) when the
    containment ``require`` s cannot be met.  With a pid namespace, the process forks: the
    child (pid 1 of the namespace) goes on and returns; the parent stays behind as its
    supervisor (:func:`_fork_into_namespace`, closing its copy of socket ``fd``) and never
    returns.  ``report["pid"]`` is the worker's pid as the hub sees it.
    """
    c = config["containment"]
    binding = config["binding"]
    skip = set(c["skip"])
    libc = _libc()
    report: dict[str, Any] = {"notes": [], "refused": None, "pid": os.getpid()}
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    work = Path(config["work_root"]) / f"w{os.getpid()}"
    work.mkdir(mode=0o700)
    readable = readable_paths(binding)
    for hidden in c["hidden"]:
        for path in readable:
            if _covers(os.path.realpath(path), hidden):
                report["refused"] = f"the hub's folder {hidden} lies inside {path}, which servables must read"
    network = bool(binding and binding.get("network"))

    # 1. an unprivileged user (the service runs as root)
    switched = False
    if os.geteuid() == 0 and c["user"] and "user" not in skip:
        checks = [os.path.dirname(os.__file__), os.__file__, str(Path(__file__).resolve().parents[1])]
        spec = importlib.util.find_spec("numpy")
        if spec is not None and spec.origin:
            checks.append(spec.origin)
        if binding is not None:
            checks.append(binding["mount"])
            if binding.get("python"):  # its own environment, and the hub's libraries it extends
                checks += [sys.prefix, *(binding.get("reads") or ())]
        switched = _switch_user(c["user"], checks, work, report)
    user = pwd.getpwuid(os.geteuid()).pw_name
    _python_path_shim(work)

    # 2. namespaces: a user namespace (no capability over the machine), no network, and a pid
    #    namespace with its own /proc (no other process, the hub included, is visible)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    userns = netns = pidns = False
    if "userns" not in skip:
        want_net = not network and "netns" not in skip
        net = _CLONE_NEWNET if want_net else 0
        pid = 0 if "pidns" in skip else _CLONE_NEWPID | _CLONE_NEWNS
        for flags in (_CLONE_NEWUSER | net | pid, _CLONE_NEWUSER | net, _CLONE_NEWUSER):
            if _unshare(flags):
                userns, netns, pidns = True, bool(flags & _CLONE_NEWNET), bool(flags & _CLONE_NEWPID)
                break
            report["notes"].append(f"unshare({_flag_names(flags)}): {_errno_text()}")
        if userns and want_net and not netns:
            report["notes"].append("no network namespace")
    if pidns:
        report["pid"] = _fork_into_namespace(fd)
        try:
            _mount_own_proc()
        except OSError as exc:
            report["notes"].append(f"no /proc of its own: {exc}")
            pidns = False
    if netns:
        try:
            _loopback_up()
        except OSError as exc:
            report["notes"].append(f"loopback of the network namespace stayed down: {exc}")
    if userns or switched:
        _drop_capabilities()
    if userns:
        user += " in a user namespace (no capabilities on the machine)"

    # 3. limits, dumpability, environment
    cpu = int(c["max_cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    dumpable = libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0
    for var in ("HOME", "TMPDIR", "TEMP", "TMP"):
        os.environ[var] = str(work)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(work / "jupyter-runtime")
    os.environ["IPYTHONDIR"] = str(work / "ipython")
    os.environ["MPLCONFIGDIR"] = str(work / "matplotlib")
    os.chdir(work)

    # 4. Landlock, last
    applied = landlock.Applied()
    if "landlock" not in skip:
        rules = landlock.Rules(
            paths=(
                *((p, landlock.READ) for p in readable),
                (str(work), landlock.READ | landlock.WRITE),
                ("/dev/null", landlock.READ_FILE | landlock.WRITE_FILE),
                ("/dev/shm", _SHM_RIGHTS),
            ),
            deny_tcp=not network and not netns,
            scoped=True,
        )
        applied = landlock.restrict(rules)
    if not applied.files and c["require"] and report["refused"] is None:
        report["refused"] = (
            "this machine cannot contain servable code (no Landlock: Linux 5.13+ with it enabled); "
            "the admin may start the service with --allow-uncontained-servables"
        )
    report.update(
        landlock=applied.abi,
        files=applied.files,
        tcp=applied.tcp,
        scopes=applied.scopes,
        user=user,
        userns=userns,
        netns=netns,
        pidns=pidns,
        network=network,
        cpu_s=cpu,
        dumpable=dumpable,
    )
    return report, work


def _probe_checks(report: dict[str, Any], config: dict[str, Any]) -> None:
    """What a probe tries that must fail (recorded in ``report["reached"]``)."""
    reached = []
    for path in config["containment"]["hidden"]:
        with contextlib.suppress(OSError):
            os.listdir(path)
            reached.append(path)
    with contextlib.suppress(OSError):
        os.listdir("/tmp")
        reached.append("/tmp")
    report["reached"] = reached


def main(argv: list[str] | None = None) -> None:
    """Contain this process, then serve runs on the inherited socket (or print a probe's report)."""
    args = sys.argv[1:] if argv is None else argv
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != os.path.realpath(cwd)]
    if args[0] == "--probe":
        config = json.loads(sys.stdin.read())
        report, _ = contain(config)
        _probe_checks(report, config)
        print(json.dumps(report), flush=True)
        return
    from multiprocessing.connection import Connection

    conn = Connection(int(args[0]))
    config = json.loads(conn.recv_bytes())
    report, work = contain(config, conn.fileno())
    if report["refused"]:
        conn.send_bytes(b"refused " + json.dumps(report).encode())
        return
    from hub.servables.worker import WorkerConfig, worker_main

    worker = WorkerConfig(**config["worker"])
    worker_main(conn, worker, contained=(work, report))


if __name__ == "__main__":
    from hub.servables.contained import main as _main  # the importable module, not this __main__ copy

    _main()
