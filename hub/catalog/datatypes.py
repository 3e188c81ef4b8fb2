"""The kinds of data MatterHub adds to intake's (``intake.readers.datatypes``).

Tables, NetCDF/HDF5, Zarr, NumPy files, TIFF, PNG and JPEG use intake's own
datatypes.  This module adds electron microscopy formats, structure and
calculation files, data that a Python package ships, and the data of a hub
(a dataset, a group of its records).  Being subclasses of intake's ``BaseData``
registers them: ``intake.recommend("x.dm3")`` names :class:`DigitalMicrograph`.

Besides its arguments, a datatype's ``metadata`` may carry what MatterHub's
readers use: ``mirror`` (where a copy sits under ``$MATTERHUB_MIRROR``: a
relative path, or a mapping of URL prefixes to mirror prefixes), ``sha256`` (the
content hash a download is checked against) and ``filename`` (the name whose
suffix tells the format, for URLs without one such as blob URLs).
"""

from __future__ import annotations

from typing import Any

from intake.readers.datatypes import BaseData, FileData


class DigitalMicrograph(FileData):  # type: ignore[misc]
    """Gatan DigitalMicrograph images, spectra and spectrum images (``.dm3``, ``.dm4``)."""

    filepattern = "dm[34]$"
    structure = {"array", "image"}


class EMD(FileData):  # type: ignore[misc]
    """Electron Microscopy Datasets: Berkeley EMD and FEI/Thermo Velox (``.emd``, HDF5 inside)."""

    filepattern = "emd$"
    structure = {"array", "image"}
    magic = {b"\x89HDF"}


class PillowImage(FileData):  # type: ignore[misc]
    """Images Pillow reads besides PNG, JPEG and TIFF (GIF, BMP, WebP)."""

    filepattern = "(gif|bmp|webp)$"
    structure = {"array", "image"}
    magic = {b"GIF8", b"BM"}


class StructureFiles(FileData):  # type: ignore[misc]
    """Structure and calculation files that MatterHub's extractors read.

    CIF, POSCAR/CONTCAR, (extended) XYZ with G4MP2-style energy blocks, and
    whole calculation folders (VASP, Quantum ESPRESSO, Gaussian).  ``url`` is
    one URL, a list of URLs, a local glob, a ``pkg://`` URL, or an archive
    (``.tar.gz``, ``.zip``) that is unpacked before reading.
    """

    filepattern = "(cif|xyz|extxyz|poscar|contcar|vasp)$"
    structure = {"table", "nested"}


class PythonData(BaseData):  # type: ignore[misc]
    """Data that a pip-installed Python module holds (e.g. ``ase.data.g2_1``)."""

    structure = {"table"}

    def __init__(self, module: str, metadata: dict[str, Any] | None = None) -> None:
        self.module = module
        super().__init__(metadata)


class HubData(BaseData):  # type: ignore[misc]
    """Something in a MatterHub hub, read as the given principal.

    ``hub`` is the hub's location (its folder); ``user`` and ``groups`` the
    principal (None for the local owner).  A hub opened in this process is
    reused; otherwise the reader opens it.
    """

    def __init__(
        self,
        hub: str,
        user: str | None = None,
        groups: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.hub = hub
        self.user = user
        self.groups = list(groups or [])
        super().__init__(metadata)


class HubDataset(HubData):
    """One dataset version of a hub (``source_id``); reads as a catalog of its files and records."""

    structure = {"catalog"}

    def __init__(
        self,
        hub: str,
        source_id: str,
        user: str | None = None,
        groups: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.source_id = source_id
        super().__init__(hub, user=user, groups=groups, metadata=metadata)


class HubRecords(HubData):
    """Records of a hub: a group of one dataset's records, or named records.

    ``group`` is one of :data:`hub.catalog.structures.RECORD_GROUPS`
    (``structures``, ``images``, ``tables``, ``arrays``) or ``all``;
    ``record_ids`` lists records by id instead (a search result's hits).
    """

    structure = {"table"}

    def __init__(
        self,
        hub: str,
        source_id: str | None = None,
        group: str = "all",
        record_ids: list[str] | None = None,
        user: str | None = None,
        groups: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.source_id = source_id
        self.group = group
        self.record_ids = list(record_ids) if record_ids is not None else None
        super().__init__(hub, user=user, groups=groups, metadata=metadata)
