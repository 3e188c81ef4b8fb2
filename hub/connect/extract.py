"""Extract: decide which files form one record, then run the extractors.

Grouping extractors (``groups_files = True``: VASP and Quantum ESPRESSO run
folders) go first and their groups take their files; every other file is a
group of its own, read by each extractor that claims it.  The generic extractor
reads every group.  A failure is an error for the files of that group and that
extractor, never for the submission.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.exceptions import MappingError
from hub.extractors.base import Extracted, ExtractionContext, Extractor

GENERIC = "generic"


@dataclass
class Group:
    """The files that form one record and the extractors that read them.

    Attributes
    ----------
    files : tuple of Path
        The group's files: a grouping extractor's group (a run folder's files) or one file.
    extractors : list of Extractor
        The extractors run on the group, the generic extractor last.
    """

    files: tuple[Path, ...]
    extractors: list[Extractor]


@dataclass
class GroupResult:
    """What the extractors made of one :class:`Group`.

    Attributes
    ----------
    files : tuple of Path
        The group's files.
    parts : list of (str, Extracted)
        Each extractor's name and what it extracted, for the extractors that extracted something.
    errors : list of dict
        One :func:`error_entry` for each extractor that failed on the group.
    warnings : list of dict
        The warnings raised while the group was read (``path``, ``extractor``, ``message``).
    """

    files: tuple[Path, ...]
    parts: list[tuple[str, Extracted]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)


#: Loggers of the libraries extractors call, whose warnings are collected per file
#: instead of being printed in the middle of a progress bar.
LIBRARY_LOGGERS = ("rsciio", "hyperspy", "ase", "tifffile", "h5py", "PIL")
#: Libraries that add their own log handler when imported.
CONFIGURES_LOGGING_ON_IMPORT = ("rsciio",)


class WarningLog(logging.Handler):
    """Collects Python warnings and library log warnings as entries.

    Each entry is tagged with the file and extractor being run (set :attr:`where` before
    each call); a message repeating the entry just before it is kept once.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.where: tuple[str, str] = ("", "")
        self.entries: list[dict[str, Any]] = []

    def add(self, message: str) -> None:
        """Add ``message`` as an entry for the current :attr:`where`, unless it repeats the last one."""
        path, extractor = self.where
        entry = {"path": path, "extractor": extractor, "message": message}
        if not self.entries or self.entries[-1] != entry:
            self.entries.append(entry)

    def emit(self, record: logging.LogRecord) -> None:
        """Add a library's log record (``logger name: message``)."""
        self.add(f"{record.name}: {record.getMessage()}")

    def showwarning(self, message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        """Add a Python warning (``Category: message``); stands in for :func:`warnings.showwarning`."""
        self.add(f"{category.__name__}: {message}")


@contextmanager
def captured() -> Iterator[WarningLog]:
    """Collect warnings raised inside the block instead of printing them."""
    log = WarningLog()
    saved = []
    for name in CONFIGURES_LOGGING_ON_IMPORT:
        if name not in sys.modules and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)  # so its own handler is in place before we swap it out
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.propagate))
        logger.handlers = [log]
        logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.showwarning = log.showwarning
            yield log
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers, logger.propagate = handlers, propagate


def plan(files: Sequence[Path], extractors: Sequence[Extractor], context: ExtractionContext) -> list[Group]:
    """The groups of a submission and the extractors that read each."""
    by_name = {e.name: e for e in extractors}
    generic = by_name.get(GENERIC)
    taken: set[Path] = set()
    groups: list[Group] = []
    for ex in extractors:
        if not ex.groups_files:
            continue
        free = [f for f in files if f not in taken]
        for g in ex.group(free, context):
            g = tuple(f for f in g if f not in taken)
            if not g:
                continue
            taken.update(g)
            groups.append(Group(g, [ex] + ([generic] if generic else [])))
    singles = [
        e
        for e in extractors
        if not e.groups_files and e.name != GENERIC and (context.mapping is not None or not e.needs_mapping)
    ]
    for f in files:
        if f in taken:
            continue
        readers = [e for e in singles if e.claims(f)]
        groups.append(Group((f,), readers + ([generic] if generic else [])))
    groups.sort(key=lambda g: g.files[0].as_posix())
    return groups


def local_files(groups: Sequence[Group]) -> set[Path]:
    """The files some extractor of their group opens itself (not :meth:`~Extractor.reads_in_place`).

    For a dataset published by reference, these get a local copy before extraction; the
    others are read at their source.
    """
    return {f for g in groups for f in g.files for ex in g.extractors if not ex.reads_in_place(f)}


def run_group(group: Group, context: ExtractionContext, log: WarningLog | None = None) -> GroupResult:
    """Run each extractor of ``group``; an extractor that fails adds an error and the next one runs.

    ``log``, when given, has its :attr:`~WarningLog.where` set to the group's path and each
    extractor before it runs.  The result's ``warnings`` are left to the caller (:func:`run`).
    """
    result = GroupResult(group.files)
    path = _rel(group.files[0], context.root)
    for ex in group.extractors:
        if log is not None:
            log.where = (path, ex.name)
        try:
            part = ex.extract(group.files, context)
        except Exception as exc:
            result.errors.append(error_entry(group.files, context.root, ex.name, exc))
            continue
        if part:
            result.parts.append((ex.name, part))
    return result


def run(groups: Sequence[Group], context: ExtractionContext, progress: Any = None) -> Iterator[GroupResult]:
    """Run every group; ``progress`` is a tqdm-like object updated per group.

    Warnings the libraries raise are attached to the result of the group that
    raised them (``GroupResult.warnings``) rather than printed.
    """
    with captured() as log:
        for g in groups:
            t0 = time.perf_counter()
            before = len(log.entries)
            res = run_group(g, context, log)
            res.warnings = log.entries[before:]
            if progress is not None:
                progress.update(1)
                progress.set_postfix_str(f"{g.files[0].name} {time.perf_counter() - t0:.2f}s", refresh=False)
            yield res


def mapping_errors(results: Sequence[GroupResult]) -> list[dict[str, Any]]:
    """The errors of ``results`` that say the submission's mapping does not fit a file.

    These are the mapping extractor's :class:`~hub.exceptions.MappingError` entries: a column
    or key the mapping names that the file does not have (with the nearest names it has).
    """
    from hub.extractors.mapping import MappingExtractor  # imports pandas: only once there are results

    return [
        e
        for r in results
        for e in r.errors
        if e["extractor"] == MappingExtractor.name and e["error"] == MappingError.__name__
    ]


def error_entry(
    files: Sequence[Path], root: Path, extractor: str | None, exc: BaseException, step: str = "extract"
) -> dict[str, Any]:
    """The error entry a submission reports for ``exc`` raised on ``files``.

    Parameters
    ----------
    files : sequence of Path
        The files being read; their paths are given relative to ``root``.
    root : Path
        The submission's root folder.
    extractor : str or None
        The extractor that failed, None when the failure is not an extractor's.
    exc : BaseException
        The exception raised.
    step : str
        The submission step that failed.

    Returns
    -------
    dict
        ``path`` (the file, or the folder of several files, with a trailing ``/``),
        ``paths``, ``step``, ``extractor``, ``error`` (the exception's class name) and
        ``message`` (its text, else its class name).
    """
    paths = [_rel(f, root) for f in files]
    message = str(exc) or exc.__class__.__name__
    return {
        "path": paths[0] if len(paths) == 1 else paths[0].rsplit("/", 1)[0] + "/",
        "paths": paths,
        "step": step,
        "extractor": extractor,
        "error": exc.__class__.__name__,
        "message": message,
    }


def _rel(p: Path, root: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return p.name
