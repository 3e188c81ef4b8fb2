"""Tables: CSV/TSV, Excel, Parquet and JSON lines, read with pandas.

:func:`read_table` is the one table reader of MatterHub: the tabular and mapping
extractors and the Intake table reader all use it.  It understands the ``#``
comment lines some datasets put before the header -- matminer's CSVs start with
``# ref: <citation>`` -- and keeps them in ``DataFrame.attrs`` (``reference``,
``comments``).  :func:`text_layout` is how it hands a delimited text file to pandas
(delimiter, encoding, rows to skip), for callers that read the file in another way
(in chunks, or with intake's own CSV reader).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hub.exceptions import ExtractionError, MissingDependencyError

#: File suffix -> table format name.
TABLE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".xlsx": "excel",
    ".xls": "excel",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
}
#: Prefixes (case-insensitive) of a comment line that holds the reference of the data.
_REFERENCE_PREFIXES = ("ref:", "reference:", "references:", "citation:", "cite:")
_SNIFF_BYTES = 1 << 20


def table_format(path: Path) -> str | None:
    """The table format of a file, by its suffix.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str or None
        ``csv``, ``tsv``, ``excel``, ``parquet`` or ``jsonl`` (see :data:`TABLE_FORMATS`);
        None when the suffix is not a table's.
    """
    return TABLE_FORMATS.get(Path(path).suffix.lower())


@dataclass
class TextLayout:
    """How to hand a delimited text file to pandas.

    Attributes
    ----------
    sep
        The delimiter.
    skiprows
        The leading comment and blank lines before the header.
    encoding
        ``utf-8-sig`` (UTF-8 with or without a byte-order mark) or ``latin-1``.
    reference
        The text of the ``# ref:`` (``# citation:``, ...) lines, or None.
    comments
        The other comment lines, without their ``#``.
    """

    sep: str
    skiprows: int
    encoding: str
    reference: str | None = None
    comments: list[str] = field(default_factory=list)

    def read_csv_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`pandas.read_csv` that read the file.

        Returns
        -------
        dict
            ``sep``, ``skiprows``, ``encoding`` and ``encoding_errors="replace"``.
        """
        return {
            "sep": self.sep,
            "skiprows": self.skiprows,
            "encoding": self.encoding,
            "encoding_errors": "replace",
        }

    def attrs(self) -> dict[str, Any]:
        """What the comment lines say, as ``DataFrame.attrs``.

        Returns
        -------
        dict
            ``reference`` and ``comments``, each only when the file has it.
        """
        attrs: dict[str, Any] = {}
        if self.reference:
            attrs["reference"] = self.reference
        if self.comments:
            attrs["comments"] = list(self.comments)
        return attrs


def text_layout(path: Path, fmt: str) -> TextLayout:
    """Encoding, leading ``#`` comment lines and delimiter of a CSV/TSV file.

    Reads the first megabyte only.  The delimiter of a TSV file is a tab; that of a
    CSV file the one of ``,`` ``;`` tab ``|`` its header line uses most (outside
    quotes), ``,`` when it uses none.

    Parameters
    ----------
    path
        The file.
    fmt
        ``csv`` or ``tsv``.

    Returns
    -------
    TextLayout
    """
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    try:
        head.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        encoding = "utf-8-sig" if exc.start >= len(head) - 3 else "latin-1"
    text = head.decode(encoding, errors="replace")
    lines = text.splitlines()
    if len(head) == _SNIFF_BYTES and lines:
        lines = lines[:-1]  # the last line of the sample may be cut

    skiprows, references, comments = 0, [], []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            body = stripped.lstrip("#").strip()
            label = next((p for p in _REFERENCE_PREFIXES if body.lower().startswith(p)), None)
            if label is not None:
                references.append(body[len(label) :].strip())
            elif body:
                comments.append(body)
            skiprows += 1
        elif not stripped:
            skiprows += 1
        else:
            break
    header = lines[skiprows] if skiprows < len(lines) else ""
    if fmt == "tsv":
        sep = "\t"
    else:
        counts = {d: _count_outside_quotes(header, d) for d in (",", ";", "\t", "|")}
        sep = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    return TextLayout(
        sep=sep,
        skiprows=skiprows,
        encoding=encoding,
        reference=" ".join(r for r in references if r) or None,
        comments=comments,
    )


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def require_xlrd(path: Path) -> None:
    """Check that a legacy Excel file (``.xls``) can be read.

    Parameters
    ----------
    path
        The table file; only a ``.xls`` suffix is checked.

    Raises
    ------
    MissingDependencyError
        For a ``.xls`` file when xlrd, pandas' reader of the format, is not installed.
    """
    if path.suffix.lower() == ".xls" and importlib.util.find_spec("xlrd") is None:
        raise MissingDependencyError(
            f"Reading the legacy Excel file {path.name} (.xls) needs xlrd, which is not "
            "installed. Please run pip install xlrd, or save the sheet as .xlsx."
        )


def read_table(path: Path | str, **kw: Any) -> pd.DataFrame:
    """Read a CSV, TSV, Excel, Parquet or JSON-lines file into a DataFrame.

    Leading ``#`` comment lines of CSV/TSV files are skipped; a ``# ref: ...``
    line becomes ``df.attrs["reference"]`` and the other comment lines
    ``df.attrs["comments"]``.  The delimiter of a ``.csv`` file is the one of
    ``,`` ``;`` tab ``|`` that its header line uses most; the encoding is UTF-8
    (with or without BOM), else Latin-1.

    Parameters
    ----------
    path
        The table file; its suffix chooses the reader (see :data:`TABLE_FORMATS`).
    **kw
        Passed to the pandas reader (``pd.read_csv``, ``pd.read_excel``,
        ``pd.read_parquet``, ``pd.read_json``), e.g. ``nrows``, ``usecols``,
        ``sheet_name``.  ``chunksize`` is not supported: the result is one DataFrame.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ExtractionError
        When the suffix is not a table format.
    MissingDependencyError
        For ``.xls`` files when xlrd is not installed.
    """
    path = Path(path)
    fmt = table_format(path)
    if kw.get("chunksize") is not None:
        raise TypeError("read_table returns one DataFrame; chunksize is not supported")
    if fmt in ("csv", "tsv"):
        layout = text_layout(path, fmt)
        df = pd.read_csv(path, **{**layout.read_csv_kwargs(), **kw})
        df.attrs.update(layout.attrs())
        return df
    if fmt == "excel":
        require_xlrd(path)
        kw.setdefault("sheet_name", 0)
        return pd.read_excel(path, **kw)
    if fmt == "parquet":
        nrows = kw.pop("nrows", None)
        if nrows is None:
            return pd.read_parquet(path, **kw)
        import pyarrow as pa
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        batches = parquet.iter_batches(batch_size=max(int(nrows), 1), columns=kw.get("columns"))
        first = next(batches, None)
        table = pa.Table.from_batches([first]) if first is not None else parquet.schema_arrow.empty_table()
        return table.slice(0, int(nrows)).to_pandas()
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, **kw)
    raise ExtractionError(
        f"{path.name} is not a table file; read_table reads {', '.join(sorted(TABLE_FORMATS))}."
    )


__all__ = ["TABLE_FORMATS", "TextLayout", "read_table", "require_xlrd", "table_format", "text_layout"]
