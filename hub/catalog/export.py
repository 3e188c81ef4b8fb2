"""Static YAML catalogs of a hub, for machines without the hub.

:func:`export_catalog` writes a folder that plain ``intake`` opens
(``intake.from_yaml_file("folder/catalog.yaml")``):

* ``catalog.yaml``: one entry per dataset, each reading ``<source_id>.yaml``
  (intake's own ``YAMLCatalogReader``);
* ``<source_id>.yaml``: one entry per file, reading it by URL from the hub's
  blob store (``hub.file_locations(source_id, static=True)``: a path, ``s3://...``, for
  the files the exporting principal may read) or from a remote hub's file URL; tables and
  arrays use intake's own readers (``PandasCSV``, ``PandasParquet``, ``PandasExcel``,
  ``XArrayDatasetReader``), remote URLs behind fsspec caching; microscopy,
  images and structure files keep MatterHub's readers (``pip install matterhub``);
* ``<source_id>.<group>.parquet``: each record group as a table (intake's
  ``PandasParquet``), so records need no hub either.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intake.readers import datatypes
from intake.readers import readers as ir
from intake.readers.entry import Catalog

from hub.catalog import locate
from hub.catalog.arrays import ArrayReader
from hub.catalog.hubdata import HubRecordsReader, add, dataset_catalog, hub_of
from hub.catalog.tables import TableReader

if TYPE_CHECKING:
    import pandas as pd

    from hub.api import HubAPI

INDEX_NAME = "catalog.yaml"


def _remote(url: str, layer: str) -> str:
    return f"{layer}::{url}" if locate.is_remote(url) and not url.startswith(layer) else url


def plain_reader(reader: Any) -> Any:
    """Intake's own reader for what a MatterHub file reader reads, or the reader itself.

    CSV/TSV become ``PandasCSV`` with the separator, encoding and leading
    comment lines found now (matminer's ``# ref:`` line is skipped); Excel and
    Parquet ``PandasExcel``/``PandasParquet``; NetCDF, HDF5 and Zarr
    ``XArrayDatasetReader`` with the file's chunks.
    """
    data = reader.kwargs.get("data") or (reader.kwargs.get("args") or [None])[0]
    if data is None:
        return reader
    meta = dict(data.metadata)
    url = data.url
    so = data.storage_options
    if isinstance(reader, TableReader):
        if isinstance(data, datatypes.CSV):
            kwargs = _csv_layout(reader, data)
            return ir.PandasCSV(
                datatypes.CSV(url=_remote(url, "filecache"), storage_options=so, metadata=meta), **kwargs
            )
        if isinstance(data, datatypes.Parquet):
            return ir.PandasParquet(
                datatypes.Parquet(url=_remote(url, "filecache"), storage_options=so, metadata=meta)
            )
        if isinstance(data, datatypes.Excel):
            return ir.PandasExcel(
                datatypes.Excel(url=_remote(url, "filecache"), storage_options=so, metadata=meta)
            )
        return reader
    if isinstance(reader, ArrayReader):
        if isinstance(data, datatypes.Zarr):
            zarr = datatypes.Zarr(url=url, storage_options=so, metadata=meta)
            return ir.XArrayDatasetReader(
                zarr, chunks={}, engine="zarr", backend_kwargs={"consolidated": False}
            )
        kind = type(data)
        engine = "scipy" if kind is datatypes.NetCDF3 else "h5netcdf"
        new = kind(url=_remote(url, "blockcache"), storage_options=so, metadata=meta)
        return ir.XArrayDatasetReader(new, chunks={}, engine=engine)
    return reader


def _csv_layout(reader: TableReader, data: datatypes.FileData) -> dict[str, Any]:
    from hub.formats.tables import text_layout

    path = reader._local(data)
    fmt = "tsv" if str(data.metadata.get("filename", path.name)).lower().endswith(".tsv") else "csv"
    layout = text_layout(path, fmt)
    return layout.read_csv_kwargs()


def to_parquet(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as Parquet; object columns pyarrow cannot type become JSON text."""
    import pyarrow as pa

    out = df.copy()
    out.attrs = dict(df.attrs)
    for col in out.columns:
        if out[col].dtype == object:
            values = out[col].tolist()
            if any(isinstance(v, Mapping) for v in values):
                out[col] = [None if v is None else json.dumps(v, default=str) for v in values]
                continue
            try:
                pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
                out[col] = [None if v is None else json.dumps(v, default=str) for v in out[col]]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    out.to_parquet(tmp)
    os.replace(tmp, path)
    return path


def static_dataset_catalog(hub: HubAPI, source_id: str, folder: Path, *, plain: bool = True) -> Catalog:
    """The catalog of one dataset with every entry static (record groups written to Parquet)."""
    live = dataset_catalog(hub, source_id, static=True)
    sid = str(live.metadata.get("source_id", source_id))
    cat = Catalog(metadata=dict(live.metadata))
    for name in sorted(live.aliases):
        reader = live[name]
        meta = dict(reader.metadata)
        if isinstance(reader, HubRecordsReader):
            df = reader.read()
            target = to_parquet(df, folder / f"{sid}.{name}.parquet")
            data = datatypes.Parquet(url="{CATALOG_DIR}/" + target.name, metadata={"group": name})
            add(cat, name, ir.PandasParquet(data), **{k: v for k, v in meta.items() if _plain_value(v)})
            continue
        static = plain_reader(reader) if plain else reader
        add(cat, name, static, **{k: v for k, v in meta.items() if _plain_value(v)})
    return cat


def _plain_value(value: Any) -> bool:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain_value(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _plain_value(v) for k, v in value.items())
    return False


def export_catalog(
    hub: HubAPI,
    dest: str | os.PathLike[str],
    query: str | None = None,
    *,
    source_ids: list[str] | None = None,
    plain: bool = True,
) -> Path:
    """Write static YAML catalogs of the hub's datasets (or those a query matches) under ``dest``.

    Parameters
    ----------
    hub
        The hub.
    dest
        The folder to write (created).
    query
        A search query choosing the datasets (None: all you may see).
    source_ids
        Export these datasets instead of a query's.
    plain
        Use intake's own readers wherever one reads the file (tables, arrays, records).

    Returns
    -------
    Path
        ``dest/catalog.yaml``, which ``intake.from_yaml_file`` opens.
    """
    from hub.catalog.hubdata import catalog_for

    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    top = catalog_for(hub, query) if source_ids is None else None
    chosen = list(source_ids) if source_ids is not None else sorted(top.aliases if top is not None else [])
    index = Catalog(metadata={"source": f"MatterHub at {hub.home}", "query": query or "*"})
    for sid in chosen:
        cat = static_dataset_catalog(hub, sid, folder, plain=plain)
        name = str(cat.metadata.get("source_id", sid))
        cat.to_yaml_file(str(folder / f"{name}.yaml"))
        ref = datatypes.CatalogFile(url="{CATALOG_DIR}/" + f"{name}.yaml")
        add(
            index,
            name,
            ir.YAMLCatalogReader(ref),
            **{k: v for k, v in cat.metadata.items() if _plain_value(v)},
        )
    path = folder / INDEX_NAME
    index.to_yaml_file(str(path))
    return path


__all__ = ["export_catalog", "hub_of", "plain_reader", "static_dataset_catalog", "to_parquet"]
