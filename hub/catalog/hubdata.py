"""Catalogs of a hub: its datasets, a dataset's files and record groups, a search result.

* :func:`catalog_for` -- one entry per dataset you may see (matching a query),
  with its title, authors, elements, size and source_id as metadata; reading
  an entry gives that dataset's catalog.
* :func:`dataset_catalog` -- one entry per file a reader understands (tables,
  arrays, microscopy, images, structure files; each reads the file through the
  hub's file API, so access is decided at every read) and one per record group
  (``structures``, ``images``, ``tables``, ``arrays``: DataFrames of the records).
* :func:`result_catalog` -- the datasets of a search result's hits, plus a
  ``hits`` entry with the hit records as a DataFrame.

Every entry names the hub and the principal: a file by its ``matterhub://`` URL
(:mod:`hub.catalog.hubfiles`; the service's file URL for a remote hub), a dataset or
record group by the hub's folder; they can be written to YAML as they are.  No entry
holds a blob's location in the store, which would bypass access;
:mod:`hub.catalog.export` writes static files for machines without the hub.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import fsspec
from intake.readers import datatypes
from intake.readers.entry import Catalog
from intake.readers.readers import BaseReader

from hub.api import PROTOCOL, Dataset, HubAPI, hub_reference, scheme_of
from hub.catalog.arrays import ArrayReader, ArrayTreeReader, NumpyArrayReader
from hub.catalog.datatypes import EMD, DigitalMicrograph, HubDataset, HubRecords, PillowImage, StructureFiles
from hub.catalog.images import ImageReader
from hub.catalog.microscopy import MicroscopyReader
from hub.catalog.structures import RECORD_GROUPS, StructureFilesReader, record_group, records_frame
from hub.catalog.tables import TableReader
from hub.formats.arrays import netcdf_engine

if TYPE_CHECKING:
    import pandas as pd

    from hub.index.results import SearchResult

#: How many source_ids a query may match (the facet size asked of the index).
MAX_DATASETS = 10_000
_PAGE = 5000
# the filesystem of hub file URLs (hub.api.PROTOCOL, :meth:`hub.api.HubAPI.file_locations`)
fsspec.register_implementation(PROTOCOL, "hub.catalog.hubfiles.HubFileSystem", clobber=True)


# -- finding the hub a catalog entry names -------------------------------------------------

_live: dict[tuple[str, str | None, tuple[str, ...]], weakref.ReferenceType[Any]] = {}
_opened: dict[tuple[str, str | None, tuple[str, ...]], Any] = {}
_lock = threading.Lock()


def register(hub: HubAPI) -> dict[str, Any]:
    """Remember ``hub`` so that entries naming it reuse it.

    Returns
    -------
    dict
        The entry fields naming ``hub`` and its principal (:func:`hub.api.hub_reference`):
        ``hub``, ``user`` and ``groups``.
    """
    ref = hub_reference(hub)
    with _lock:
        _live[(ref["hub"], ref["user"], tuple(ref["groups"]))] = weakref.ref(hub)
    return ref


def hub_of(data: Any) -> HubAPI:
    """The hub a :class:`~hub.catalog.datatypes.HubData` names: live in this process, else opened."""
    return hub_at(str(data.hub), data.user, data.groups or [])


def hub_at(location: str, user: str | None, groups: Sequence[str]) -> HubAPI:
    """The hub at ``location`` as ``user`` and ``groups`` (None: its local owner).

    The one :func:`register` remembered when it is still alive, else one opened (and
    kept for later calls) for the purpose; a service location takes its token from
    ``$MATTERHUB_TOKEN``.
    """
    key = (location, user, tuple(sorted(groups)))
    with _lock:
        ref = _live.get(key)
        hub: HubAPI | None = ref() if ref is not None else None
        if hub is None:
            hub = _opened.get(key)
        if hub is None:
            from hub.api import Hub

            if scheme_of(location) not in ("", "file"):  # a service: the token comes from $MATTERHUB_TOKEN
                hub = Hub(location, progress=False)
            else:
                hub = Hub(location, user=user, groups=list(groups) or None, progress=False)
            _opened[key] = hub
    return hub


# -- readers of hub data ---------------------------------------------------------------------


class HubDatasetReader(BaseReader):  # type: ignore[misc]
    """A hub dataset as an intake catalog of its files and record groups."""

    implements = {HubDataset}
    imports = {"matterhub"}
    output_instance = "intake.readers.entry:Catalog"
    func = "hub.catalog.hubdata:dataset_catalog"

    def _read(self, data: HubDataset, **kwargs: Any) -> Catalog:
        return dataset_catalog(hub_of(data), data.source_id, **kwargs)


class HubRecordsReader(BaseReader):  # type: ignore[misc]
    """Records of a hub as a DataFrame: a record group of a dataset, or records by id.

    Structure and calculation records give the columns of
    :func:`~hub.catalog.structures.records_frame` (``df.atoms[i]`` builds ASE
    Atoms); other groups give every field as its dotted path.
    """

    implements = {HubRecords}
    imports = {"matterhub", "pandas"}
    output_instance = "pandas:DataFrame"
    func = "hub.catalog.structures:records_frame"

    def _read(self, data: HubRecords, **kwargs: Any) -> pd.DataFrame:
        hub = hub_of(data)
        if data.record_ids is not None:
            records: Iterable[Mapping[str, Any]] = [hub.record(rid) for rid in data.record_ids]
        else:
            records = _group_records(hub.dataset(str(data.source_id)), data.group)
        kind = data.group if data.group in RECORD_GROUPS else "structures"
        df = records_frame(records, kind=kind)
        df.attrs["source"] = f"{data.source_id or 'records'}:{data.group}"
        return df


def _group_records(ds: Dataset, group: str) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        page = ds.records(offset=offset, limit=_PAGE)
        for rec in page:
            if group == "all" or record_group(rec) == group:
                yield rec
        if len(page) < _PAGE:
            return
        offset += _PAGE


# -- file entries -------------------------------------------------------------------------------

_TABLES = {
    ".csv": datatypes.CSV,
    ".tsv": datatypes.CSV,
    ".xlsx": datatypes.Excel,
    ".xls": datatypes.Excel,
    ".parquet": datatypes.Parquet,
    ".jsonl": datatypes.JSONFile,
}
_IMAGES = {
    ".png": datatypes.PNG,
    ".jpg": datatypes.JPEG,
    ".jpeg": datatypes.JPEG,
    ".gif": PillowImage,
    ".bmp": PillowImage,
    ".webp": PillowImage,
}
_STRUCTURES = (".cif", ".xyz", ".extxyz")


def file_reader(
    path: str,
    url: str,
    *,
    sha256: str | None = None,
    record: Mapping[str, Any] | None = None,
    head: bytes | None = None,
    metadata: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> BaseReader | None:
    """The reader of one file of a dataset, or None when no reader understands it.

    Parameters
    ----------
    path
        The file's path in the dataset (its suffix chooses the reader).
    url
        Where to read it: the file's ``matterhub://`` URL, a remote hub's file URL, or
        (in an export) the blob's URL.
    sha256
        Its content hash (downloads are checked against it).
    record
        The file's record, when it has one (array and TIFF files are read
        according to what the extractors found).
    head
        The file's first bytes, to tell classic NetCDF from NetCDF-4.
    """
    name = PurePosixPath(path).name
    suffix = PurePosixPath(name.lower()).suffix
    meta = {"filename": name, "path": path, **(dict(metadata or {}))}
    if sha256:
        meta["sha256"] = sha256
    so = dict(storage_options or {}) or None
    rec = record or {}
    if suffix in _TABLES:
        return TableReader(_TABLES[suffix](url=url, storage_options=so, metadata=meta))
    if suffix == ".nc":
        netcdf3 = head is not None and netcdf_engine(head) == "scipy"
        kind = datatypes.NetCDF3 if netcdf3 else datatypes.HDF5
        return ArrayReader(kind(url=url, storage_options=so, metadata=meta))
    if suffix in (".h5", ".hdf5"):
        fmt = (rec.get("arrays") or {}).get("format")
        data = datatypes.HDF5(url=url, storage_options=so, metadata=meta)
        return ArrayReader(data) if fmt == "netcdf" else ArrayTreeReader(data)
    if suffix == ".npy":
        return NumpyArrayReader(datatypes.NumpyFile(url=url, storage_options=so, metadata=meta))
    if suffix in (".dm3", ".dm4"):
        return MicroscopyReader(DigitalMicrograph(url=url, storage_options=so, metadata=meta))
    if suffix == ".emd":
        return MicroscopyReader(EMD(url=url, storage_options=so, metadata=meta))
    if suffix in (".tif", ".tiff"):
        tiff = datatypes.TIFF(url=url, storage_options=so, metadata=meta)
        microscope = rec.get("electron_microscopy") or "microscopy" in (
            (rec.get("mdf") or {}).get("extractors") or []
        )
        return MicroscopyReader(tiff) if microscope else ImageReader(tiff)
    if suffix in _IMAGES:
        return ImageReader(_IMAGES[suffix](url=url, storage_options=so, metadata=meta))
    if suffix in _STRUCTURES:
        return StructureFilesReader(StructureFiles(url=url, storage_options=so, metadata=meta))
    return None


def zarr_store_of(path: str) -> str | None:
    """The Zarr store folder a dataset path lies in (``a/b.zarr``), or None."""
    parts = PurePosixPath(path).parts
    for i, part in enumerate(parts[:-1]):
        if part.lower().endswith(".zarr"):
            return "/".join(parts[: i + 1])
    return None


def add(cat: Catalog, name: str, reader: BaseReader, **metadata: Any) -> str:
    """Add ``reader`` to ``cat`` under the alias ``name``; returns the entry's token.

    (intake 2.0's ``cat[name] = reader`` stores the entry under ``name`` without an
    alias, so ``list(cat)`` and ``len(cat)`` miss it; an alias fixes that.)
    """
    reader.metadata.update(metadata)
    token: str = cat.add_entry(reader)
    cat.aliases[name] = token
    return token


def _heads(hub: HubAPI, source_id: str, files: Sequence[Mapping[str, Any]]) -> dict[str, bytes]:
    out = {}
    for f in files:
        if str(f["path"]).lower().endswith(".nc"):
            with hub.open(source_id, f["path"], verify=False) as fh:
                out[f["sha256"]] = fh.read(8)
    return out


def dataset_catalog(hub: HubAPI, source_id: str, *, records: bool = True, static: bool = False) -> Catalog:
    """A catalog of one dataset: its files (read through the hub) and its record groups.

    Parameters
    ----------
    hub
        The hub.
    source_id
        The dataset (a source_id, or a source_name for its latest version).
    records
        Add one entry per non-empty record group (``structures``, ``images``,
        ``tables``, ``arrays``).
    static
        Entries that read without the hub (an export's): an embedded hub's blob URLs; by
        default every read goes through the hub, as its principal
        (:meth:`hub.api.HubAPI.file_locations`).

    Returns
    -------
    intake.entry.Catalog
        Entries named by file path (``data/table.csv``; a Zarr store by its
        folder, ``cube.zarr``) and by group name.
    """
    ds = hub.dataset(source_id)
    principal = register(hub)
    files = ds.files()
    by_path: dict[str, dict[str, Any]] = {}
    group_counts: dict[str, int] = {}
    for rec in _group_records(ds, "all") if records else ():
        for f in rec.get("files") or []:
            by_path.setdefault(f["path"], rec)
        group = record_group(rec)
        if group:
            group_counts[group] = group_counts.get(group, 0) + 1
    cat = Catalog(metadata=_dataset_metadata(ds, hub))
    heads = _heads(hub, ds.source_id, files)
    locations = hub.file_locations(ds.source_id, static=static)
    stores: dict[str, list[Mapping[str, Any]]] = {}
    for f in files:
        store = zarr_store_of(f["path"])
        if store is not None:
            stores.setdefault(store, []).append(f)
            continue
        url, options = locations[f["path"]]
        reader = file_reader(
            f["path"],
            url,
            sha256=f["sha256"],
            record=by_path.get(f["path"]),
            head=heads.get(f["sha256"]),
            metadata={"length": f["length"], "mime_type": f.get("mime_type")},
            storage_options=options,
        )
        if reader is not None:
            add(cat, f["path"], reader)
    for store, members in sorted(stores.items()):
        refs = {m["path"][len(store) + 1 :]: [locations[m["path"]].url] for m in members}
        ref_options: dict[str, Any] = {"fo": refs}
        first, remote_options = locations[members[0]["path"]]
        if remote_options:
            protocol = first.split("://", 1)[0]
            ref_options.update(remote_protocol=protocol, remote_options=remote_options)
        data = datatypes.Zarr(
            url="reference://",
            storage_options=ref_options,
            metadata={"path": store, "filename": PurePosixPath(store).name},
        )
        add(cat, store, ArrayReader(data), length=sum(int(m["length"]) for m in members))
    for group, count in group_counts.items():
        data = HubRecords(source_id=ds.source_id, group=group, **principal)
        add(cat, group, HubRecordsReader(data), n_records=count, group=group, source_id=ds.source_id)
    return cat


# -- catalogs of datasets -------------------------------------------------------------------------


def _elements(hub: HubAPI, source_id: str) -> list[str]:
    res = hub.search(
        f'mdf.source_id:"{source_id}"',
        facets=[{"field": "material.elements", "size": 200}],
        limit=0,
        kinds=["record"],
    )
    buckets = (res.facets.get("material.elements") or {}).get("buckets") or []
    return sorted(str(b["value"]) for b in buckets)


def _dataset_metadata(ds: Dataset, hub: HubAPI, elements: list[str] | None = None) -> dict[str, Any]:
    dc = ds.metadata.get("dc") or {}
    authors = [c.get("name") for c in dc.get("creators") or [] if c.get("name")]
    descriptions = [d.get("description") for d in dc.get("descriptions") or [] if d.get("description")]
    meta: dict[str, Any] = {
        "title": ds.title,
        "authors": authors,
        "source_id": ds.source_id,
        "source_name": ds.source_name,
        "version": ds.version,
        "size": ds.total_size,
        "n_files": ds.n_files,
        "n_records": ds.n_records,
        "elements": elements if elements is not None else _elements(hub, ds.source_id),
        "year": dc.get("publicationYear"),
    }
    if descriptions:
        meta["description"] = descriptions[0]
    doi = (dc.get("identifier") or {}).get("identifier") if isinstance(dc.get("identifier"), dict) else None
    if doi:
        meta["doi"] = doi
    return meta


def _dataset_entry(hub: HubAPI, ds: Dataset, principal: dict[str, Any]) -> BaseReader:
    reader = HubDatasetReader(HubDataset(source_id=ds.source_id, **principal))
    reader.metadata.update(_dataset_metadata(ds, hub))
    return reader


def _matching_source_ids(hub: HubAPI, query: str) -> list[str]:
    res = hub.search(query, facets=[{"field": "mdf.source_id", "size": MAX_DATASETS}], limit=0)
    buckets = (res.facets.get("mdf.source_id") or {}).get("buckets") or []
    return [str(b["value"]) for b in buckets]


def catalog_for(
    hub: HubAPI, query: str | SearchResult | None = None, *, all_versions: bool = False
) -> Catalog:
    """A catalog with one entry per dataset you may see, or per dataset a query matches.

    Parameters
    ----------
    hub
        The hub.
    query
        A search query (``material.elements:Co``); a dataset matches when it or
        any of its records does.  None: every dataset.  A search result: its
        catalog (:func:`result_catalog`).
    all_versions
        Include older versions (by default only the latest version of each).

    Returns
    -------
    intake.entry.Catalog
        Entries named by source_id; each entry's metadata has ``title``,
        ``authors``, ``elements``, ``size`` (bytes), ``source_id``, ``n_files``,
        ``n_records``; reading an entry gives the dataset's catalog
        (:func:`dataset_catalog`).
    """
    if query is not None and not isinstance(query, str):
        return result_catalog(query, hub)
    principal = register(hub)
    visible = {d.source_id: d for d in hub.datasets(all_versions=all_versions)}
    if query is None or query.strip() in ("", "*"):
        chosen = sorted(visible)
    else:
        chosen = [sid for sid in _matching_source_ids(hub, query) if sid in visible]
    cat = Catalog(metadata={"hub": str(hub.home), "query": query or "*", "n_datasets": len(chosen)})
    for sid in chosen:
        add(cat, sid, _dataset_entry(hub, visible[sid], principal))
    return cat


def result_catalog(result: SearchResult, hub: HubAPI) -> Catalog:
    """A catalog of a search result: one entry per dataset of its hits, and ``hits``.

    ``hits`` reads the record hits of the result (this page) as a DataFrame.
    """
    principal = register(hub)
    source_ids: list[str] = []
    record_ids: list[str] = []
    for hit in result.hits:
        sid = (hit.document.get("mdf") or {}).get("source_id")
        if sid and sid not in source_ids:
            source_ids.append(sid)
        if hit.kind == "record":
            record_ids.append(hit.id)
    cat = Catalog(metadata={"hub": str(hub.home), "query": result.query, "total": result.total})
    for sid in source_ids:
        add(cat, sid, _dataset_entry(hub, hub.dataset(sid), principal))
    if record_ids:
        data = HubRecords(record_ids=record_ids, group="structures", **principal)
        add(cat, "hits", HubRecordsReader(data), n_records=len(record_ids), query=result.query)
    return cat


__all__ = [
    "HubDatasetReader",
    "HubRecordsReader",
    "catalog_for",
    "dataset_catalog",
    "file_reader",
    "hub_of",
    "register",
    "result_catalog",
]
