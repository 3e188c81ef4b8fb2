"""Tables to pandas: CSV/TSV (with leading ``#`` comment lines), Excel, Parquet, JSON lines.

The reading itself is :func:`hub.formats.tables.read_table`, MatterHub's one
table reader: matminer's CSVs, whose first line is a ``# ref:`` citation, come
out with the citation in ``df.attrs["reference"]``.
"""

from __future__ import annotations

from typing import Any

from intake.readers import datatypes

from hub.catalog.base import HubReader


class TableReader(HubReader):
    """A table file as a :class:`pandas.DataFrame` (via :func:`~hub.formats.tables.read_table`).

    Keyword arguments go to the pandas reader (``nrows``, ``usecols``,
    ``sheet_name``, ``sep``, ...); ``format`` (``csv``, ``tsv``, ``parquet``,
    ``excel``, ``jsonl``) overrides the format the file name implies.  Remote files are downloaded once into the cache and
    checked against the entry's sha256.
    """

    implements = {datatypes.CSV, datatypes.Excel, datatypes.Parquet, datatypes.JSONFile}
    imports = {"matterhub", "pandas", "pyarrow"}
    optional_imports = {"openpyxl", "xlrd"}
    output_instance = "pandas:DataFrame"
    func = "hub.formats.tables:read_table"

    def discover(self, **kwargs: Any) -> Any:
        """The first 10 rows."""
        kwargs.setdefault("nrows", 10)
        return self.read(**kwargs)

    def _read(self, data: datatypes.FileData, format: str | None = None, **kwargs: Any) -> Any:
        """Read the table; ``format`` (``csv``, ``tsv``, ``parquet``, ...) overrides the file's suffix."""
        from hub.catalog import locate
        from hub.formats.tables import read_table

        path = self._local(data)
        if format:
            path = locate.named(path, f"{path.name.rsplit('.', 1)[0]}.{format.lstrip('.')}")
        if path.suffix.lower() in (".csv", ".tsv") and "encoding_errors" not in kwargs:
            # read_table replaces undecodable bytes, which slows pandas' parser by half; a
            # strict read gives the same frame whenever there are none, so try it first.
            try:
                df = read_table(path, encoding_errors="strict", **kwargs)
            except UnicodeDecodeError:
                df = read_table(path, **kwargs)
        else:
            df = read_table(path, **kwargs)
        df.attrs.setdefault("source", self._url(data))
        return df
