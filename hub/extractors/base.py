"""The extractor plugin contract.

An extractor reads one family of files and returns part of an MDF record as a
nested dict using the field names of :mod:`hub.records` (``material``,
``crystal_structure``, ``dft``, ``image``, ``electron_microscopy``, ``table``,
``arrays``, ``custom``).  Connect merges the parts that several extractors give
for the same group of files into one record.

Metadata is declarative (class attributes), so the CLI, catalogs and widgets can
list what an extractor does without running it (the pattern of intake's readers
and xarray's ``BackendEntrypoint``).

Grouping follows MDF's MaterialsIO: ``group()`` decides which files form one
record.  Most extractors use the default, one group per claimed file.  An
extractor that sets ``groups_files = True`` (VASP, Quantum ESPRESSO) returns
whole calculation folders as groups; Connect gives those groups precedence, so
the files of one calculation become one record rather than one record each.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

from hub.plugins import missing_imports, require_imports
from hub.store.entry import StoredFile

#: What ``extract`` returns: one record part, or several records (a mapped table).
Extracted = dict[str, Any] | list[dict[str, Any]]


class PartialExtractionWarning(UserWarning):
    """An extractor read part of a file and returned what it read.

    Raised with :func:`warnings.warn` (not as an exception): Connect keeps the record
    and reports the message, which names the file, among the submission's warnings.
    """


@dataclass(frozen=True)
class ExtractionContext:
    """What an extractor may know besides the files.

    ``root`` is the folder the submission was collected into (group paths are
    absolute paths below it).  ``mapping`` is the user's mapping from record
    field paths to column names / key paths (``{"material.composition":
    "formula"}``), or None.  ``options`` holds extractor-specific options keyed
    by extractor name.  ``stored`` holds the blob store's entry of each file
    (:class:`~hub.store.entry.StoredFile`: its sha256 and length) by path, when
    Connect stored the files before extraction; empty otherwise.  ``opener`` opens a file
    for reading (None: the local file); for a dataset published by reference it reads the
    files that have no local copy at their source, in range requests (see
    :meth:`Extractor.reads_in_place`).
    """

    root: Path
    mapping: dict[str, str] | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    stored: Mapping[Path, StoredFile] = field(default_factory=dict)
    opener: Callable[[Path], IO[bytes]] | None = None

    def open(self, path: Path) -> IO[bytes]:
        """``path`` opened for binary reading, wherever it is (seekable; read only what you need)."""
        return self.opener(path) if self.opener is not None else open(path, "rb")


class Extractor:
    """Base class of every extractor.

    Subclasses set the class attributes and implement :meth:`extract`.
    """

    #: Registry name (the entry point name).
    name: ClassVar[str] = ""
    #: One line for people.
    description: ClassVar[str] = ""
    #: Record blocks this extractor fills, e.g. ``("material", "crystal_structure")``.
    provides: ClassVar[tuple[str, ...]] = ()
    #: Case-insensitive glob patterns matched against the file *name*.
    patterns: ClassVar[tuple[str, ...]] = ()
    #: Modules that must be importable for the extractor to work.
    imports: ClassVar[tuple[str, ...]] = ()
    #: The pip extra that installs ``imports`` (for the error message).
    extra: ClassVar[str | None] = None
    #: True when ``group`` returns multi-file groups that form one record.
    groups_files: ClassVar[bool] = False
    #: True when the extractor only runs if the submission has a mapping.
    needs_mapping: ClassVar[bool] = False

    # -- declarative helpers -------------------------------------------------

    @classmethod
    def available(cls) -> bool:
        """Whether every module in ``imports`` can be imported."""
        return not missing_imports(cls.imports)

    @classmethod
    def require(cls) -> None:
        """Raise :class:`MissingDependencyError` naming the extra when something is missing."""
        require_imports(cls.imports, cls.extra, f"The {cls.name!r} extractor")

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The extractor's declared metadata as a JSON-ready dict, for the CLI and catalogs.

        Returns
        -------
        dict
            ``name``, ``description``, ``provides``, ``patterns``, ``imports``, ``extra``,
            ``groups_files`` and ``available`` (whether its imports are installed here).
        """
        return {
            "name": cls.name,
            "description": cls.description,
            "provides": list(cls.provides),
            "patterns": list(cls.patterns),
            "imports": list(cls.imports),
            "extra": cls.extra,
            "groups_files": cls.groups_files,
            "available": cls.available(),
        }

    # -- the contract ---------------------------------------------------------

    def claims(self, path: Path) -> bool:
        """Whether this extractor wants to look at ``path`` (default: name patterns)."""
        name = path.name.lower()
        return any(fnmatch.fnmatchcase(name, p.lower()) for p in self.patterns)

    def reads_in_place(self, path: Path) -> bool:
        """Whether :meth:`extract` reads ``path`` only through :meth:`ExtractionContext.open`.

        Such a file of a dataset published by reference is read at its source (an
        extractor that reads a header fetches only the header); any other is first
        copied to a local file for the extractor.  Default: False (the extractor opens
        the path itself).
        """
        return False

    def group(self, files: Sequence[Path], context: ExtractionContext) -> Iterable[tuple[Path, ...]]:
        """Split ``files`` (every file of the submission) into groups that form one record each.

        The default: one group per claimed file.
        """
        for f in files:
            if self.claims(f):
                yield (f,)

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> Extracted:
        """Return the record part(s) for ``group``; raise on a file it cannot read.

        Any exception is caught by Connect and reported as a per-file error naming
        the extractor; return ``{}`` when the files hold nothing this extractor
        understands (not an error).  A file read only in part gives the part read
        and a :class:`PartialExtractionWarning` naming the file.
        """
        raise NotImplementedError
