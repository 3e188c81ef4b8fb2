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
from hub.catalog.locate import RemoteDataError, cache_dir, catalogs_dir, public_catalog
from hub.catalog.microscopy import MicroscopyReader
from hub.catalog.structures import (
    ASEMoleculesReader,
    StructureFilesReader,
    records_frame,
    to_atoms,
)
from hub.catalog.tables import TableReader

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
