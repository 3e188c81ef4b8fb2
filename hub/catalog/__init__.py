"""Intake 2 catalogs of MatterHub: hub datasets as lazily loaded pandas and xarray objects.

Readers (registered with intake through the ``intake.imports`` entry point, so
``import intake`` knows them; each declares ``implements``, ``imports``,
``output_instance`` and ``func`` like intake's own):

=====================================  ======================================  ===============================
reader                                 reads                                   gives
=====================================  ======================================  ===============================
:class:`~.tables.TableReader`          CSV/TSV (``# ref:`` lines), Excel,      ``pandas.DataFrame``
                                       Parquet, JSON lines
:class:`~.arrays.ArrayReader`          NetCDF, HDF5, Zarr                      ``xarray.Dataset`` (dask chunks)
:class:`~.arrays.ArrayTreeReader`      every group of an HDF5/Zarr file        ``xarray.DataTree``
:class:`~.arrays.NumpyArrayReader`     ``.npy``                                ``xarray.DataArray``
:class:`~.microscopy.MicroscopyReader` dm3, dm4, emd, microscope TIFF          ``xarray.DataArray`` with units
:class:`~.images.ImageReader`          PNG, JPEG, TIFF, GIF, BMP, WebP          ``xarray.DataArray``
:class:`~.structures.StructureFilesReader`  CIF, POSCAR, XYZ, VASP/QE/Gaussian  ``pandas.DataFrame`` (+ Atoms)
:class:`~.structures.ASEMoleculesReader`    ``ase.data.g2_1`` and alike         ``pandas.DataFrame`` (+ Atoms)
:class:`~.hubdata.HubRecordsReader`    a hub's record group                    ``pandas.DataFrame``
:class:`~.hubdata.HubDatasetReader`    a hub dataset                           ``intake.entry.Catalog``
=====================================  ======================================  ===============================

Functions: :func:`catalog_for` (a hub's datasets), :func:`dataset_catalog`,
:func:`result_catalog` (a search result), :func:`export_catalog` (static YAML
for machines without the hub), :func:`public_catalog` (the catalogs of real
public datasets in the repository's ``catalogs/``), :func:`records_frame` and
:func:`to_atoms`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hub.catalog.arrays import ArrayReader, ArrayTreeReader, NumpyArrayReader
from hub.catalog.datatypes import (
    EMD,
    DigitalMicrograph,
    HubDataset,
    HubRecords,
    PillowImage,
    PythonData,
    StructureFiles,
)
from hub.catalog.export import export_catalog
from hub.catalog.hubdata import (
    HubDatasetReader,
    HubRecordsReader,
    catalog_for,
    dataset_catalog,
    result_catalog,
)
from hub.catalog.images import ImageReader
from hub.catalog.locate import RemoteDataError, cache_dir
from hub.catalog.microscopy import MicroscopyReader
from hub.catalog.structures import (
    ASEMoleculesReader,
    StructureFilesReader,
    records_frame,
    to_atoms,
)
from hub.catalog.tables import TableReader

ENV_CATALOGS = "MATTERHUB_CATALOGS"


def catalogs_dir() -> Path:
    """The folder of the public catalogs (``$MATTERHUB_CATALOGS``, else the repository's ``catalogs/``)."""
    value = os.environ.get(ENV_CATALOGS)
    return Path(value).expanduser() if value else Path(__file__).resolve().parents[2] / "catalogs"


def public_catalog(name: str = "index") -> Any:
    """A catalog of real public datasets: ``catalogs/<name>.yaml`` (``index`` lists them all).

    Data are read from their public URLs, or from ``$MATTERHUB_MIRROR`` when it
    holds a copy.
    """
    import intake

    path = catalogs_dir() / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in catalogs_dir().glob("*.yaml"))
        raise FileNotFoundError(
            f"no public catalog {name!r} in {catalogs_dir()}; there are: {', '.join(known)}"
        )
    return intake.from_yaml_file(str(path))


__all__ = [
    "EMD",
    "ASEMoleculesReader",
    "ArrayReader",
    "ArrayTreeReader",
    "DigitalMicrograph",
    "HubDataset",
    "HubDatasetReader",
    "HubRecords",
    "HubRecordsReader",
    "ImageReader",
    "MicroscopyReader",
    "NumpyArrayReader",
    "PillowImage",
    "PythonData",
    "RemoteDataError",
    "StructureFiles",
    "StructureFilesReader",
    "TableReader",
    "cache_dir",
    "catalog_for",
    "catalogs_dir",
    "dataset_catalog",
    "export_catalog",
    "public_catalog",
    "records_frame",
    "result_catalog",
    "to_atoms",
]
