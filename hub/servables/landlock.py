"""Landlock (Linux 5.13+, no privileges needed): what a process may read, write, run and reach.

A Landlock ruleset *handles* access rights (those it governs) and *allows* some of
them below chosen paths; a handled right not allowed anywhere is denied.  Once a
process restricts itself (:func:`restrict`), the rules hold for it and every thread
and process it starts afterwards, and cannot be lifted.  Threads that already run
keep their old rights, so a process restricts itself while it is single-threaded.

The rights come in ABI versions (:func:`abi`): 1 files (read, write, execute, make,
remove), 2 ``REFER`` (links and renames across folders), 3 ``TRUNCATE``, 4 TCP
``bind``/``connect``, 6 scopes (abstract unix sockets and signals stay inside the
domain).  :func:`restrict` handles what the running kernel offers and returns what
it applied, so a caller can report it.

Only the standard library is imported here: a contained worker calls this before it
imports anything that starts threads (:mod:`hub.servables.contained`).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3

BIND_TCP = 1 << 0  # ABI 4
CONNECT_TCP = 1 << 1  # ABI 4

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

#: Reading and running what is below a path.
READ = EXECUTE | READ_FILE | READ_DIR
#: Making, changing and removing files and folders below a path (without reading).
WRITE = WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG | MAKE_SOCK
WRITE |= MAKE_FIFO | MAKE_BLOCK | MAKE_SYM | REFER | TRUNCATE
#: The rights that apply to a file (not a folder): a rule on a file may allow only these.
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPort(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _fail(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")


def abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is missing or disabled."""
    try:
        version = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def fs_rights(version: int) -> int:
    """The file-system rights an ABI ``version`` handles."""
    rights = READ | (WRITE & ~(REFER | TRUNCATE))
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    return rights


@dataclass(frozen=True)
class Rules:
    """What a restricted process may still do.

    Parameters
    ----------
    paths
        ``(path, rights)`` pairs: the rights allowed below each path (a file gets only
        the rights of :data:`FILE_RIGHTS` that are asked).  Paths that do not exist are
        skipped (nothing can be done there anyway).
    handled
        The file-system rights governed at all: those not allowed below some path are
        denied everywhere.  Default: every right the kernel knows.
    deny_tcp
        Govern TCP ``bind`` and ``connect`` (ABI 4), allowing none: no TCP at all.
    scoped
        Keep abstract unix sockets and signals inside the domain (ABI 6).
    """

    paths: tuple[tuple[str, int], ...] = ()
    handled: int | None = None
    deny_tcp: bool = False
    scoped: bool = False


@dataclass
class Applied:
    """What :func:`restrict` put in place (for a report): the ABI and each kind of rule."""

    abi: int = 0
    files: bool = False
    tcp: bool = False
    scopes: bool = False
    skipped: list[str] = field(default_factory=list)


def restrict(rules: Rules) -> Applied:
    """Restrict this process (and what it starts later) to ``rules``; irreversible.

    Also sets ``PR_SET_NO_NEW_PRIVS`` (Landlock requires it without ``CAP_SYS_ADMIN``).
    Returns what was applied; ``Applied.files`` is False, with nothing done, when the
    kernel has no Landlock.

    Raises
    ------
    OSError
        When Landlock refuses the ruleset (a bug here, or a kernel that lies about its ABI).
    """
    version = abi()
    applied = Applied(abi=version)
    if version < 1:
        return applied
    handled = fs_rights(version) if rules.handled is None else rules.handled & fs_rights(version)
    attr = _RulesetAttr(handled, 0, 0)
    size = 8
    if rules.deny_tcp and version >= 4:
        attr.handled_access_net = BIND_TCP | CONNECT_TCP
        size = 16
        applied.tcp = True
    if rules.scoped and version >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
        applied.scopes = True
    libc = _libc()
    fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if fd < 0:
        raise _fail("landlock_create_ruleset")
    try:
        for path, rights in rules.paths:
            _add_path(libc, fd, path, rights & handled, applied)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _fail("prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_SYS_RESTRICT_SELF, fd, 0) != 0:
            raise _fail("landlock_restrict_self")
    finally:
        os.close(fd)
    applied.files = True
    return applied


def _add_path(libc: ctypes.CDLL, ruleset: int, path: str, rights: int, applied: Applied) -> None:
    try:
        pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        applied.skipped.append(path)
        return
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        if not rights:
            return
        rule = _PathBeneath(rights, pfd)
        if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise _fail(f"landlock_add_rule({path})")
    finally:
        os.close(pfd)


def writes_only_below(writable: Iterable[str | os.PathLike[str]]) -> Rules:
    """Rules that govern writes only: reading and running stay allowed everywhere."""
    handled = WRITE
    return Rules(paths=tuple((os.fspath(p), WRITE | READ) for p in writable), handled=handled)
