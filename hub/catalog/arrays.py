"""Array files to xarray, lazily: NetCDF, HDF5, Zarr and NumPy ``.npy``.

Opening reads metadata only; every variable is a dask array chunked like the
file (``chunks={}``), so a slice reads only the chunks it touches.  Local files
are opened by path (the library's own I/O); other URLs through an fsspec file
object (``blockcache::`` before remote links), so a slice fetches only its byte
ranges and remembers them.  A hub's Zarr store, whose files are separate blobs,
is opened through fsspec's reference filesystem (``reference://`` with one
reference per store key).
"""

from __future__ import annotations

import atexit
import contextlib
import weakref
from typing import Any

from intake.readers import datatypes

from hub.catalog import locate
from hub.catalog.base import HubReader
from hub.formats.arrays import netcdf_engine, read_signature

#: Datasets opened on Python file objects: h5py must let go of them before the
#: interpreter tears the file objects down, or it crashes at exit.
_ON_FILE_OBJECTS: dict[int, weakref.ReferenceType[Any]] = {}


@atexit.register
def _close_file_backed() -> None:
    for ref in list(_ON_FILE_OBJECTS.values()):
        obj = ref()
        if obj is not None:
            with contextlib.suppress(Exception):
                obj.close()


def _engine(source: Any, data: datatypes.BaseData, engine: str | None) -> str:
    if engine:
        return engine
    if isinstance(data, datatypes.NetCDF3) and netcdf_engine(read_signature(source)) != "h5netcdf":
        return "scipy"
    return "h5netcdf"


class _ArrayFileReader(HubReader):
    imports = {"matterhub", "xarray", "dask"}
    optional_imports = {"h5netcdf", "zarr", "scipy"}

    def _source(self, data: datatypes.BaseData, cache: locate.CacheMode) -> Any:
        return locate.open_file(
            self._url(data),
            storage_options=getattr(data, "storage_options", None),
            mirror=self._mirror(data),
            mode=cache,
        )

    @staticmethod
    def _track(obj: Any, source: Any) -> Any:
        if not isinstance(source, str):
            key = id(obj)
            _ON_FILE_OBJECTS[key] = weakref.ref(obj, lambda _: _ON_FILE_OBJECTS.pop(key, None))
        return obj

    def _zarr_location(self, data: datatypes.BaseData) -> tuple[str, dict[str, Any]]:
        return locate.store_location(
            self._url(data), storage_options=getattr(data, "storage_options", None), mirror=self._mirror(data)
        )


class ArrayReader(_ArrayFileReader):
    """A NetCDF, HDF5 or Zarr file as a lazily loaded :class:`xarray.Dataset`.

    Parameters of ``read``
    ----------------------
    chunks
        dask chunks (default ``{}``: the file's own chunks).
    group
        The group to open (an HDF5 path or a Zarr group).
    engine
        The xarray engine (default: ``h5netcdf`` for HDF5, ``scipy`` for classic
        NetCDF, ``zarr`` for Zarr).
    cache
        ``"blocks"`` (default) fetches and caches only the byte ranges read;
        ``"whole"`` downloads the file first (and checks its sha256).
    **kwargs
        Passed to :func:`xarray.open_dataset`.
    """

    implements = {datatypes.NetCDF3, datatypes.HDF5, datatypes.Zarr}
    output_instance = "xarray:Dataset"
    func = "xarray:open_dataset"

    def _read(
        self,
        data: datatypes.FileData,
        chunks: Any = None,
        group: str | None = None,
        engine: str | None = None,
        cache: locate.CacheMode = "blocks",
        **kwargs: Any,
    ) -> Any:
        import xarray as xr

        chunks = {} if chunks is None else chunks
        if isinstance(data, datatypes.Zarr):
            url, options = self._zarr_location(data)
            group = group or data.root or None
            return xr.open_dataset(
                url,
                engine=engine or "zarr",
                chunks=chunks,
                group=group,
                backend_kwargs={"storage_options": options} if options else None,
                **kwargs,
            )
        source = self._source(data, cache)
        group = group or getattr(data, "path", None) or None
        ds = xr.open_dataset(
            source, engine=_engine(source, data, engine), chunks=chunks, group=group, **kwargs
        )
        return self._track(ds, source)


class ArrayTreeReader(_ArrayFileReader):
    """Every group of a NetCDF, HDF5 or Zarr file as a lazily loaded :class:`xarray.DataTree`.

    HDF5 datasets without dimension scales (Keras weight files, instrument
    dumps) get ``phony_dim_*`` dimensions.
    """

    implements = {datatypes.HDF5, datatypes.Zarr}
    output_instance = "xarray:DataTree"
    func = "xarray:open_datatree"

    def _read(
        self,
        data: datatypes.FileData,
        chunks: Any = None,
        engine: str | None = None,
        cache: locate.CacheMode = "blocks",
        **kwargs: Any,
    ) -> Any:
        import xarray as xr

        chunks = {} if chunks is None else chunks
        if isinstance(data, datatypes.Zarr):
            url, options = self._zarr_location(data)
            return xr.open_datatree(
                url,
                engine=engine or "zarr",
                chunks=chunks,
                backend_kwargs={"storage_options": options} if options else None,
                **kwargs,
            )
        source = self._source(data, cache)
        engine = engine or "h5netcdf"
        if engine == "h5netcdf":
            kwargs.setdefault("phony_dims", "sort")
        tree = xr.open_datatree(source, engine=engine, chunks=chunks, **kwargs)
        return self._track(tree, source)


class NumpyArrayReader(_ArrayFileReader):
    """A NumPy ``.npy`` file as a lazily loaded :class:`xarray.DataArray` (memory-mapped, dask-chunked)."""

    implements = {datatypes.NumpyFile}
    output_instance = "xarray:DataArray"
    func = "numpy:load"

    def _read(
        self, data: datatypes.FileData, chunks: Any = "auto", name: str | None = None, **kw: Any
    ) -> Any:
        import dask.array as da
        import numpy as np
        import xarray as xr

        path = self._local(data)
        array = np.load(path, mmap_mode="r", allow_pickle=False)
        lazy = da.from_array(array, chunks=chunks, name=False)  # type: ignore[no-untyped-call]
        return xr.DataArray(
            lazy,
            dims=[f"dim_{i}" for i in range(array.ndim)],
            name=name or path.stem,
            attrs={"source": self._url(data)},
        )
