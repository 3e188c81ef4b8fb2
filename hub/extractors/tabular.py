"""Tables: CSV/TSV, Excel, Parquet and JSON lines, described as a ``table`` block.

The extractor describes a table without holding it in memory: CSV, TSV and
JSON lines are read in chunks (the row count is exact, the column types are
those pandas infers, merged over the chunks); Parquet is described from its
footer alone.  Reading is :mod:`hub.formats.tables`'s (its
:func:`~hub.formats.tables.read_table` is MatterHub's one table reader).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext, Extractor
from hub.formats.tables import TABLE_FORMATS, TextLayout, require_xlrd, table_format, text_layout

#: Rows per chunk when describing delimited text and JSON lines.
CHUNK_ROWS = 100_000
#: At most this many columns are listed in ``table.columns`` (``n_columns`` is exact).
MAX_COLUMNS_LISTED = 1000


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


def _chunks(path: Path, fmt: str, layout: TextLayout | None) -> Iterator[pd.DataFrame]:
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
        require_xlrd(path)
        with pd.ExcelFile(path) as book:
            sheets = [str(s) for s in book.sheet_names]
            df = pd.read_excel(book, sheet_name=0) if sheets else pd.DataFrame()
        names, dtypes, n_rows = _describe_chunks([df])
        block.update(_columns_block(names, dtypes))
        block["n_rows"] = n_rows
        if len(sheets) > 1:
            block["sheets"] = sheets
    else:
        layout = text_layout(path, fmt) if fmt in ("csv", "tsv") else None
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
