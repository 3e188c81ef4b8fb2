"""N-dimensional array files: NetCDF, HDF5, Zarr and NumPy ``.npy``.

Only metadata is read, never an array: NetCDF goes through xarray (engine
``h5netcdf`` for NetCDF-4, ``scipy`` for classic NetCDF) opened lazily and
without building indexes; other HDF5 files (Keras weight files, instrument
dumps) are walked with h5py, at most :data:`MAX_VARIABLES` datasets; Zarr
through zarr's own metadata; ``.npy`` through its header.

Zarr stores are directories, and an extractor sees files.  Two forms are
supported: a zipped store ``*.zarr.zip``, and a store directory ``*.zarr``,
whose root metadata file (``zarr.json`` for Zarr 3, else ``.zmetadata``,
``.zgroup`` or ``.zarray`` for Zarr 2) is claimed and stands for the whole
store.  The chunk files of the store are left to the generic extractor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext, Extractor
from hub.formats.arrays import netcdf_engine, read_signature

#: At most this many variables (datasets) are described per file.
MAX_VARIABLES = 1000
#: At most this many global attributes are kept, strings cut to MAX_ATTR_CHARS.
MAX_ATTRS = 50
MAX_ATTR_CHARS = 500

#: Root metadata files of a Zarr store directory, in order of preference.
ZARR_ROOT_FILES = ("zarr.json", ".zmetadata", ".zgroup", ".zarray")


# -- plain values ---------------------------------------------------------------


def _scalar(value: Any) -> str | int | float | bool | None:
    """A JSON scalar for an attribute value, or None when it is not a scalar.

    Bytes are decoded, one-element arrays unwrapped, strings cut to
    :data:`MAX_ATTR_CHARS`; NaN and infinities are dropped.
    """
    if hasattr(value, "shape") and hasattr(value, "tolist"):  # numpy array or scalar
        if getattr(value, "size", 1) != 1:
            return None
        value = value.tolist()
        if isinstance(value, list):
            value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value[:MAX_ATTR_CHARS]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def _global_attrs(attrs: Mapping[Any, Any]) -> dict[str, Any]:
    """Scalar attributes, at most :data:`MAX_ATTRS`.

    Names starting with ``_`` are format internals (``_NCProperties``,
    ``_ARRAY_DIMENSIONS``) and skipped.
    """
    kept: dict[str, Any] = {}
    for name, value in attrs.items():
        if len(kept) >= MAX_ATTRS:
            break
        name = str(name)
        if name.startswith("_"):
            continue
        plain = _scalar(value)
        if plain is not None:
            kept[name] = plain
    return kept


def _units(attrs: Mapping[Any, Any]) -> str | None:
    for key in ("units", "unit"):
        if key in attrs:
            value = _scalar(attrs[key])
            if value is not None and str(value).strip():
                return str(value).strip()
    return None


def _variable(
    name: str, dims: Iterable[Any], shape: Iterable[int], dtype: Any, attrs: Mapping[Any, Any]
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "dims": [str(d) for d in dims],
        "shape": [int(n) for n in shape],
        "dtype": str(dtype),
    }
    units = _units(attrs)
    if units is not None:
        entry["units"] = units
    return entry


def _block(
    fmt: str,
    variables: list[dict[str, Any]],
    attrs: Mapping[Any, Any],
    truncated: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    dims: dict[str, int] = {}
    for var in variables:
        for name, size in zip(var["dims"], var["shape"]):
            dims.setdefault(name, size)
    block: dict[str, Any] = {
        "format": fmt,
        "variables": variables,
        "n_variables": len(variables),
        "dims": dims,
        "attrs": _global_attrs(attrs),
    }
    if truncated:
        block["truncated"] = True
    block.update(extra)
    return block


# -- NetCDF through xarray -------------------------------------------------------


def _describe_netcdf(path: Path, fh: IO[bytes]) -> dict[str, Any]:
    import xarray as xr

    head = read_signature(fh)
    engine = netcdf_engine(head)
    options: dict[str, Any] = {"decode_cf": False, "create_default_indexes": False}
    if engine == "h5netcdf":
        tree = xr.open_datatree(fh, engine="h5netcdf", **options)
        nodes = [(node.path, node.to_dataset(inherit=False)) for node in tree.subtree]
        root_attrs = dict(tree.attrs)
        closers: list[Any] = [tree]
    elif engine == "scipy":
        ds = xr.open_dataset(fh, engine="scipy", **options)
        nodes, root_attrs, closers = [("/", ds)], dict(ds.attrs), [ds]
    else:
        raise ExtractionError(
            f"{path.name} is neither NetCDF-4 (HDF5) nor classic NetCDF (it starts with "
            f"{head[:4]!r}); NetCDF files start with 'CDF' or the HDF5 signature."
        )
    try:
        variables: list[dict[str, Any]] = []
        truncated = False
        for node_path, ds in nodes:
            prefix = node_path.strip("/")
            for name, var in ds.variables.items():
                if len(variables) >= MAX_VARIABLES:
                    truncated = True
                    break
                full = f"{prefix}/{name}" if prefix else str(name)
                dims = [f"{prefix}/{d}" if prefix else str(d) for d in var.dims]
                variables.append(_variable(full, dims, var.shape, var.dtype, var.attrs))
        extra = {"n_groups": len(nodes) - 1} if len(nodes) > 1 else {}
        return _block("netcdf", variables, root_attrs, truncated, **extra)
    finally:
        for obj in closers:
            obj.close()


# -- HDF5 through h5py ----------------------------------------------------------


def _h5_dims(dataset: Any) -> list[str]:
    """Dimension names from HDF5 dimension scales, or [] unless every axis has one."""
    import h5py

    names: list[str] = []
    try:
        if dataset.ndim == 1 and h5py.h5ds.is_scale(dataset.id):  # a coordinate: its own dim
            return [str(dataset.name).rsplit("/", 1)[-1]]
        for dim in dataset.dims:
            if len(dim) > 0:
                names.append(str(dim[0].name).rsplit("/", 1)[-1])
            elif dim.label:
                names.append(str(dim.label))
            else:
                return []
    except Exception:
        return []
    return names


def _h5_dtype(dataset: Any) -> str:
    import h5py

    if h5py.check_string_dtype(dataset.dtype) is not None:
        return "str"
    return str(dataset.dtype)


def _describe_hdf5(path: Path, fh: IO[bytes]) -> dict[str, Any]:
    import h5py

    with h5py.File(fh, "r") as f:
        if "_NCProperties" in f.attrs:  # written by netCDF-C or h5netcdf: a NetCDF-4 file
            fh.seek(0)
            return _describe_netcdf(path, fh)
        variables: list[dict[str, Any]] = []
        counts = {"groups": 0, "datasets": 0}

        def visit(name: str, obj: Any) -> bool | None:
            if isinstance(obj, h5py.Group):
                counts["groups"] += 1
                return None
            if not isinstance(obj, h5py.Dataset):
                return None
            counts["datasets"] += 1
            if len(variables) >= MAX_VARIABLES:
                return True  # stop the walk
            variables.append(_variable(name, _h5_dims(obj), obj.shape or (), _h5_dtype(obj), obj.attrs))
            return None

        stopped = f.visititems(visit) is not None
        return _block(
            "hdf5",
            variables,
            f.attrs,
            truncated=stopped,
            n_groups=counts["groups"],
            n_datasets=counts["datasets"] if not stopped else len(variables),
        )


# -- Zarr -----------------------------------------------------------------------


def _zarr_dims(array: Any) -> list[str]:
    names = getattr(getattr(array, "metadata", None), "dimension_names", None)
    if not names:
        names = array.attrs.get("_ARRAY_DIMENSIONS")
    if not names or any(n is None for n in names):
        return []
    return [str(n) for n in names]


def _describe_zarr(store_path: Path) -> dict[str, Any]:
    import zarr

    store: Any
    if store_path.is_dir():
        store = zarr.storage.LocalStore(store_path, read_only=True)
    else:
        store = zarr.storage.ZipStore(store_path, mode="r")
    try:
        node = zarr.open(store=store, mode="r")
        variables: list[dict[str, Any]] = []
        truncated = False
        n_groups = 0
        if isinstance(node, zarr.Array):
            members: Iterable[tuple[str, Any]] = [(store_path.name.split(".zarr")[0], node)]
        else:
            members = node.members(max_depth=None)
        for name, obj in members:
            if isinstance(obj, zarr.Group):
                n_groups += 1
                continue
            if len(variables) >= MAX_VARIABLES:
                truncated = True
                break
            variables.append(_variable(name, _zarr_dims(obj), obj.shape, obj.dtype, obj.attrs))
        fmt = getattr(node.metadata, "zarr_format", None)
        extra: dict[str, Any] = {"n_groups": n_groups}
        if fmt is not None:
            extra["zarr_format"] = int(fmt)
        return _block("zarr", variables, dict(node.attrs), truncated, **extra)
    finally:
        store.close()


def zarr_store_of(path: Path) -> Path | None:
    """The Zarr store ``path`` stands for, or None.

    That is the path itself for ``*.zarr.zip``, the store directory for its root
    metadata file, else None.  Only one file per store directory stands for it: ``zarr.json`` if present,
    else the first present of ``.zmetadata``, ``.zgroup``, ``.zarray``.
    """
    name = path.name.lower()
    if name.endswith(".zarr.zip"):
        return path
    if path.name not in ZARR_ROOT_FILES or not path.parent.name.lower().endswith(".zarr"):
        return None
    for candidate in ZARR_ROOT_FILES:
        if (path.parent / candidate).is_file():
            return path.parent if candidate == path.name else None
    return None


# -- NumPy ----------------------------------------------------------------------


def _describe_npy(path: Path, fh: IO[bytes]) -> dict[str, Any]:
    import numpy as np

    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fh)
        else:  # 2.0, and 3.0 (the 2.0 layout with UTF-8 field names)
            shape, _, dtype = fmt.read_array_header_2_0(fh)
    except ValueError as exc:
        raise ExtractionError(f"{path.name} is not a NumPy .npy file: {exc}") from exc
    variable = _variable(path.stem, [], shape, dtype, {})
    return _block("npy", [variable], {}, npy_version=".".join(str(v) for v in version))


# -- the extractor --------------------------------------------------------------

#: The files read from an open file (a dataset published by reference reads only what they read).
_IN_PLACE = {".npy": _describe_npy, ".nc": _describe_netcdf, ".h5": _describe_hdf5, ".hdf5": _describe_hdf5}


class ArrayExtractor(Extractor):
    """NetCDF, HDF5, Zarr and ``.npy`` files: variables, dimensions and global attributes.

    Fills ``arrays``: ``format``, ``variables`` (``name``, ``dims``, ``shape``,
    ``dtype``, ``units``), ``dims`` (name -> size), ``attrs`` (scalar global
    attributes).  Variables without named dimensions (plain HDF5 datasets,
    ``.npy``) have ``dims: []``; ``shape`` always gives the sizes.  ``.emd``
    files are HDF5 too, but belong to the microscopy extractor.
    """

    name = "arrays"
    description = "Array files (NetCDF, HDF5, Zarr, npy): variables, dims and attributes"
    provides = ("arrays",)
    patterns = ("*.nc", "*.h5", "*.hdf5", "*.npy", "*.zarr.zip", *ZARR_ROOT_FILES)
    imports = ("numpy", "h5py", "xarray", "h5netcdf")

    def claims(self, path: Path) -> bool:
        """NetCDF, HDF5 and npy files by name; Zarr stores through :func:`zarr_store_of`."""
        name = path.name.lower()
        if name.endswith(".zarr.zip") or path.name in ZARR_ROOT_FILES:
            return zarr_store_of(path) is not None
        return super().claims(path)

    def reads_in_place(self, path: Path) -> bool:
        """NetCDF, HDF5 and npy files are read through the context (headers only); Zarr stores are not."""
        return path.suffix.lower() in _IN_PLACE

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Describe the array file (or Zarr store) of ``group``.

        Raises
        ------
        ExtractionError
            When the file is not of the format its name says.
        """
        path = group[0]
        suffix = path.suffix.lower()
        zarr_store = zarr_store_of(path)
        try:
            if zarr_store is not None:
                block = _describe_zarr(zarr_store)
            elif suffix in _IN_PLACE:
                with context.open(path) as fh:
                    block = _IN_PLACE[suffix](path, fh)
            else:
                return {}
        except ExtractionError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise ExtractionError(f"{path.name} cannot be read as an array file: {exc}") from exc
        return {"arrays": block}
