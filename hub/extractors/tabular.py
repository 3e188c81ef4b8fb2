"""Tables: CSV/TSV, Excel, Parquet and JSON lines.

:func:`read_table` is the one table reader of MatterHub (the mapping extractor
uses it too).  It understands the ``#`` comment lines some datasets put before
the header -- matminer's CSVs start with ``# ref: <citation>`` -- and keeps
them in ``DataFrame.attrs`` (``reference``, ``comments``).

The extractor describes a table without holding it in memory: CSV, TSV and
JSON lines are read in chunks (the row count is exact, the column types are
those pandas infers, merged over the chunks); Parquet is described from its
footer alone.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hub.exceptions import ExtractionError, MissingDependencyError
from hub.extractors.base import ExtractionContext, Extractor

#: File suffix -> table format name.
TABLE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".xlsx": "excel",
    ".xls": "excel",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
}
#: Rows per chunk when describing delimited text and JSON lines.
CHUNK_ROWS = 100_000
#: At most this many columns are listed in ``table.columns`` (``n_columns`` is exact).
MAX_COLUMNS_LISTED = 1000
#: Prefixes (case-insensitive) of a comment line that holds the reference of the data.
_REFERENCE_PREFIXES = ("ref:", "reference:", "references:", "citation:", "cite:")
_SNIFF_BYTES = 1 << 20


def table_format(path: Path) -> str | None:
    """The table format of ``path`` by suffix (``csv``, ``tsv``, ``excel``,
    ``parquet``, ``jsonl``), or None."""
    return TABLE_FORMATS.get(Path(path).suffix.lower())


@dataclass
class _TextLayout:
    """How to hand a delimited text file to pandas."""

    sep: str
    skiprows: int
    encoding: str
    reference: str | None = None
    comments: list[str] = field(default_factory=list)

    def read_csv_kwargs(self) -> dict[str, Any]:
        return {
            "sep": self.sep,
            "skiprows": self.skiprows,
            "encoding": self.encoding,
            "encoding_errors": "replace",
        }

    def attrs(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if self.reference:
            attrs["reference"] = self.reference
        if self.comments:
            attrs["comments"] = list(self.comments)
        return attrs


def _text_layout(path: Path, fmt: str) -> _TextLayout:
    """Encoding, leading ``#`` comment lines and delimiter of a CSV/TSV file."""
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
    return _TextLayout(
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


def _require_xlrd(path: Path) -> None:
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
        layout = _text_layout(path, fmt)
        df = pd.read_csv(path, **{**layout.read_csv_kwargs(), **kw})
        df.attrs.update(layout.attrs())
        return df
    if fmt == "excel":
        _require_xlrd(path)
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


# -- describing a table ---------------------------------------------------------


def _merge_dtype(old: str, new: str, old_numeric: bool, new_numeric: bool) -> str:
    if old == new:
        return old
    if old_numeric and new_numeric:
        return "float64"
    return "object"


def _describe_chunks(chunks: Iterable[pd.DataFrame]) -> tuple[list[Any], dict[str, str], int]:
    """Column names, merged dtype names and row count over ``chunks``."""
    names: list[Any] = []
    dtypes: dict[str, str] = {}
    numeric: dict[str, bool] = {}
    n_rows = 0
    for chunk in chunks:
        if not names:
            names = list(chunk.columns)
        n_rows += len(chunk)
        for name in chunk.columns:
            key = str(name)
            dtype = chunk[name].dtype
            is_num = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
            # an all-missing column in a chunk says nothing about its type
            if key in dtypes and chunk[name].isna().all():
                continue
            if key not in dtypes:
                dtypes[key], numeric[key] = str(dtype), is_num
            else:
                dtypes[key] = _merge_dtype(dtypes[key], str(dtype), numeric[key], is_num)
                numeric[key] = numeric[key] and is_num
    return names, dtypes, n_rows


def _chunks(path: Path, fmt: str, layout: _TextLayout | None) -> Iterator[pd.DataFrame]:
    if fmt == "jsonl":
        with pd.read_json(path, lines=True, chunksize=CHUNK_ROWS) as reader:
            yield from reader
    else:
        assert layout is not None
        with pd.read_csv(path, chunksize=CHUNK_ROWS, **layout.read_csv_kwargs()) as reader:
            yield from reader


def _columns_block(names: list[Any], dtypes: dict[str, str]) -> dict[str, Any]:
    listed = [{"name": str(n), "dtype": dtypes.get(str(n), "object")} for n in names]
    block: dict[str, Any] = {"columns": listed[:MAX_COLUMNS_LISTED], "n_columns": len(names)}
    if len(listed) > MAX_COLUMNS_LISTED:
        block["columns_truncated"] = True
    return block


def describe_table(path: Path) -> dict[str, Any]:
    """The ``table`` block of one table file.

    Parameters
    ----------
    path
        A file whose suffix is in :data:`TABLE_FORMATS`.

    Returns
    -------
    dict
        ``format``, ``columns`` (``name``, ``dtype``), ``n_rows``, ``n_columns``,
        and when the file has them ``reference``, ``comments`` and ``sheets``.
    """
    path = Path(path)
    fmt = table_format(path)
    if fmt is None:
        raise ExtractionError(
            f"{path.name} is not a table file; tables are {', '.join(sorted(TABLE_FORMATS))}."
        )
    block: dict[str, Any] = {"format": fmt}
    if fmt == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        empty = parquet.schema_arrow.empty_table().to_pandas()
        block.update(_columns_block(list(empty.columns), {str(k): str(v) for k, v in empty.dtypes.items()}))
        block["n_rows"] = int(parquet.metadata.num_rows)
    elif fmt == "excel":
        _require_xlrd(path)
        with pd.ExcelFile(path) as book:
            sheets = [str(s) for s in book.sheet_names]
            df = pd.read_excel(book, sheet_name=0) if sheets else pd.DataFrame()
        names, dtypes, n_rows = _describe_chunks([df])
        block.update(_columns_block(names, dtypes))
        block["n_rows"] = n_rows
        if len(sheets) > 1:
            block["sheets"] = sheets
    else:
        layout = _text_layout(path, fmt) if fmt in ("csv", "tsv") else None
        try:
            names, dtypes, n_rows = _describe_chunks(_chunks(path, fmt, layout))
        except (pd.errors.ParserError, ValueError) as exc:
            raise ExtractionError(f"{path.name} cannot be read as {fmt.upper()}: {exc}") from exc
        block.update(_columns_block(names, dtypes))
        block["n_rows"] = n_rows
        if layout is not None:
            block.update(layout.attrs())
    return block


class TabularExtractor(Extractor):
    """CSV/TSV, Excel, Parquet and JSON-lines tables.

    Fills ``table``: ``format``, ``columns`` (``name``, ``dtype``), ``n_rows``,
    ``n_columns`` and, from a leading ``# ref:`` line, ``reference``.  When the
    submission has a mapping, the mapping extractor turns the rows into records;
    this extractor still describes the file.
    """

    name = "tabular"
    description = "Tables (csv, tsv, xlsx, xls, parquet, jsonl): columns, types and row count"
    provides = ("table",)
    patterns = ("*.csv", "*.tsv", "*.xlsx", "*.xls", "*.parquet", "*.jsonl")
    imports = ("pandas", "pyarrow")

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Describe the one table in ``group`` (see :func:`describe_table`)."""
        return {"table": describe_table(group[0])}
