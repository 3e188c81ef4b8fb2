"""The MDF record document: one searchable record per file or calculation.

Field names are MDF's (``material.composition``, ``crystal_structure.*``,
``dft.*``, ``image.*``, ``electron_microscopy.*``, ``files[]``), plus
``table`` and ``arrays`` for tabular and array files.  Energies are in eV,
lengths in Å, volumes in Å^3 and beam energies in keV.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.records.dataset import CustomValue, check_custom


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    """A block whose extractors may add fields beyond the named ones."""

    model_config = ConfigDict(extra="allow")


class FileEntry(_Strict):
    """A file of the dataset version that the record was made from, and the blob (``sha256``) holding it."""

    filename: str
    path: str
    length: int = Field(ge=0)
    mime_type: str | None = None
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    data_type: str | None = None
    url: str | None = None


class MDFRecordBlock(_Strict):
    """The ``mdf`` block of a record: the dataset version it belongs to, its ids and who may see it."""

    source_name: str
    source_id: str
    version: int = Field(ge=1)
    resource_type: Literal["record"] = "record"
    record_id: str
    scroll_id: int = Field(ge=0)
    visible_to: list[str] = Field(default_factory=lambda: ["public"])
    ingest_date: _dt.datetime | None = None
    extractors: list[str] = Field(default_factory=list)
    #: True for a record of a dataset published by reference (its files' ``url`` is where they are).
    by_reference: bool | None = None


class Material(_Strict):
    """The material of a record: its composition and chemical elements."""

    composition: str | None = None
    elements: list[str] = Field(default_factory=list)


class CrystalStructure(_Open):
    """A crystal structure: space group, atoms, volume (Å^3), lattice vectors (Å) and periodicity."""

    space_group_number: int | None = Field(default=None, ge=1, le=230)
    number_of_atoms: int | None = Field(default=None, ge=0)
    volume: float | None = Field(default=None, ge=0)
    stoichiometry: str | None = None
    lattice: list[list[float]] | None = None
    pbc: list[bool] | None = None

    @field_validator("lattice")
    @classmethod
    def _lattice(cls, v: list[list[float]] | None) -> list[list[float]] | None:
        if v is not None and (len(v) != 3 or any(len(row) != 3 for row in v)):
            raise ValueError("lattice must be 3 vectors of 3 numbers (Å)")
        return v


#: How a calculation ended (``dft.termination``): the program finished and everything it was asked
#: to converge converged; it finished, or stopped itself, with the SCF or the geometry not
#: converged; the output stops before the program's end (killed by the scheduler, out of
#: walltime, truncated); or the program stopped on an error it reported.
Termination = Literal["normal", "not converged", "interrupted", "error"]


class DFT(_Open):
    """A calculation (DFT or quantum chemistry): code, method, how it ended, energies (eV).

    ``energy_method`` says which energy ``total_energy`` is: ``SCF`` (Hartree-Fock or
    Kohn-Sham), a correlated method (``MP2``, ``CCSD(T)``) or a composite one
    (``G4MP2``).  ``converged`` is true when the run ended normally and its SCF (and
    geometry optimisation) converged; ``termination`` says how it ended and
    ``termination_reason`` why, when it did not end normally.  ``code_build`` is
    the full version with its build or revision (``2016+A.03``).  ``charge`` and
    ``multiplicity`` are the system's; ``homo_energy``, ``lumo_energy`` and
    ``fermi_energy`` are in eV and ``frequencies`` (vibrational) in cm^-1.
    """

    code: str | None = None
    code_version: str | None = None
    code_build: str | None = None
    method: str | None = None
    basis_set: str | None = None
    converged: bool | None = None
    termination: Termination | None = None
    termination_reason: str | None = None
    total_energy: float | None = None
    energy_method: str | None = None
    cutoff_energy: float | None = Field(default=None, ge=0)
    charge: int | None = None
    multiplicity: int | None = Field(default=None, ge=1)
    homo_energy: float | None = None
    lumo_energy: float | None = None
    fermi_energy: float | None = None
    frequencies: list[float] | None = None


class Axis(_Strict):
    """One axis of an image or signal: its size and calibration (``scale``, ``offset``, ``units``)."""

    name: str | None = None
    size: int = Field(ge=0)
    scale: float = 1.0
    offset: float = 0.0
    units: str | None = None


class Image(_Open):
    """An image: width and height in pixels, shape and calibrated axes."""

    width: int | None = Field(default=None, ge=0)
    height: int | None = Field(default=None, ge=0)
    shape: list[int] = Field(default_factory=list)
    axes: list[Axis] = Field(default_factory=list)


class ElectronMicroscopy(_Open):
    """The acquisition of an electron micrograph or spectrum (beam energy in keV)."""

    beam_energy: float | None = Field(default=None, ge=0)
    magnification: float | None = Field(default=None, ge=0)
    acquisition_mode: str | None = None
    detector: str | None = None
    microscope: str | None = None


class Column(_Strict):
    """One column of a table: its name and data type."""

    name: str
    dtype: str


class Table(_Open):
    """A table (CSV, TSV, Excel, Parquet, JSON lines): its columns and size."""

    columns: list[Column] = Field(default_factory=list)
    n_rows: int | None = Field(default=None, ge=0)
    n_columns: int | None = Field(default=None, ge=0)


class Variable(_Open):
    """One variable of an array file: its name, dimensions, shape and data type."""

    name: str
    dims: list[str] = Field(default_factory=list)
    shape: list[int] = Field(default_factory=list)
    dtype: str | None = None


class Arrays(_Open):
    """An array file (NetCDF, HDF5, Zarr, ``.npy``): its variables, dimension sizes and attributes."""

    variables: list[Variable] = Field(default_factory=list)
    dims: dict[str, int] = Field(default_factory=dict)
    attrs: dict[str, Any] = Field(default_factory=dict)


class Origin(_Strict):
    """Where a record harvested from another database came from.

    ``provider`` is the database's base URL (an OPTIMADE provider's), a facet to narrow
    a search to one provider; ``entry_id`` the entry's id there, ``url`` its own URL,
    ``last_modified`` when the provider last changed it and ``query`` the filter the
    harvest asked for (None: everything).
    """

    provider: str
    entry_id: str
    url: str | None = None
    last_modified: _dt.datetime | None = None
    query: str | None = None


#: The record blocks an extractor may fill, by name.
BLOCKS: dict[str, type[BaseModel]] = {
    "material": Material,
    "crystal_structure": CrystalStructure,
    "dft": DFT,
    "image": Image,
    "electron_microscopy": ElectronMicroscopy,
    "table": Table,
    "arrays": Arrays,
}


class RecordDocument(_Strict):
    """An MDF record document: one searchable record of a dataset version (a file or a calculation)."""

    mdf: MDFRecordBlock
    files: list[FileEntry] = Field(default_factory=list)
    material: Material | None = None
    crystal_structure: CrystalStructure | None = None
    dft: DFT | None = None
    image: Image | None = None
    electron_microscopy: ElectronMicroscopy | None = None
    table: Table | None = None
    arrays: Arrays | None = None
    origin: Origin | None = None
    custom: dict[str, CustomValue] = Field(default_factory=dict)

    @field_validator("custom")
    @classmethod
    def _custom(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_custom(v)
