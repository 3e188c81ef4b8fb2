"""A hub record as an OPTIMADE ``structures`` resource.

The standard attributes come from :func:`hub.optimade.fields.optimade_fields` (the
same function that fills the index, so a response always agrees with the filters)
and from the record's per-site data and cell; the hub's own are prefixed
``_matterhub_``.  Molecules are structures periodic in no direction:
``dimension_types`` ``[0, 0, 0]`` and ``lattice_vectors`` of nulls.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from hub.optimade.fields import STRUCTURES, cell, structure_parts
from hub.optimade.properties import ATTRIBUTES, DFT_KEYS, ENERGY_KEYS, FILE_KEYS, PREFIX

if TYPE_CHECKING:
    from ase import Atoms


@lru_cache(maxsize=4096)
def _timestamp(value: str) -> str | None:
    """An ISO date-time as RFC 3339 in UTC (``2026-11-30T08:01:28Z``)."""
    try:
        stamp = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=_dt.UTC)
    stamp = stamp.astimezone(_dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S" + (".%f" if stamp.microsecond else "") + "Z")


def _subset(block: dict[str, Any], keys: Iterable[str]) -> dict[str, Any] | None:
    out = {k: v for k in keys if (v := block.get(k)) is not None}
    return out or None


DATASET, FILES, ENERGIES, DFT = (f"_{PREFIX}_{n}" for n in ("dataset", "files", "energies", "dft"))


def structure_attributes(doc: dict[str, Any]) -> dict[str, Any] | None:
    """Every attribute of the structure of ``doc`` (None when it has no structure)."""
    parts = structure_parts(doc)
    if parts is None:
        return None
    fields, species_at_sites, positions = parts
    mdf = doc["mdf"]
    structure = doc["crystal_structure"]
    elements = fields["elements"]
    species = (
        [{"name": e, "chemical_symbols": [e], "concentration": [1.0]} for e in elements]
        if species_at_sites is not None
        else None
    )
    group = structure.get("space_group_number")
    stamp = mdf.get("ingest_date")
    files = doc.get("files")
    dft = doc.get("dft")
    dims = fields.get("dimension_types")
    lattice: list[list[float]] | list[list[None]] | None = cell(structure)
    if lattice is None and dims == [0, 0, 0]:
        lattice = [[None, None, None], [None, None, None], [None, None, None]]
    return {
        "last_modified": _timestamp(stamp) if isinstance(stamp, str) else None,
        "elements": elements,
        "nelements": fields["nelements"],
        "elements_ratios": fields["elements_ratios"],
        "chemical_formula_descriptive": fields["chemical_formula_descriptive"],
        "chemical_formula_reduced": fields["chemical_formula_reduced"],
        "chemical_formula_anonymous": fields["chemical_formula_anonymous"],
        "dimension_types": dims,
        "nperiodic_dimensions": fields.get("nperiodic_dimensions"),
        "lattice_vectors": lattice,
        "cartesian_site_positions": positions,
        "nsites": fields["nsites"],
        "species": species,
        "species_at_sites": species_at_sites,
        "structure_features": [],
        "space_group_it_number": group if type(group) is int else None,
        DATASET: mdf.get("source_id"),
        FILES: [{k: f[k] for k in FILE_KEYS if k in f} for f in files if isinstance(f, dict)]
        if isinstance(files, list)
        else [],
        ENERGIES: _subset(dft, ENERGY_KEYS) if isinstance(dft, dict) else None,
        DFT: _subset(dft, DFT_KEYS) if isinstance(dft, dict) else None,
    }


def to_resource(doc: dict[str, Any], response_fields: Iterable[str] | None = None) -> dict[str, Any] | None:
    """The OPTIMADE resource of ``doc`` (``{"id", "type", "attributes"}``), or None.

    ``response_fields``: the attributes to return (every one when None); a requested
    name the hub does not have is returned as null, as the specification asks.
    """
    attributes = structure_attributes(doc)
    if attributes is None:
        return None
    if response_fields is not None:
        attributes = {name: attributes.get(name) for name in response_fields if name not in ("id", "type")}
    return {"id": doc["mdf"]["record_id"], "type": STRUCTURES, "attributes": attributes}


def response_field_names(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``response_fields`` as names: a comma-separated string or an iterable; None for all."""
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(n.strip() for n in names if n.strip()))


def to_atoms(resource: dict[str, Any]) -> Atoms:
    """An :class:`ase.Atoms` of a structure resource.

    It needs the resource's sites: request ``species_at_sites``,
    ``cartesian_site_positions``, ``lattice_vectors`` and ``dimension_types`` when you
    pass ``response_fields``.  Without a complete lattice the atoms are not periodic.

    Raises
    ------
    ValueError
        When the resource has no ``species_at_sites`` or ``cartesian_site_positions``.
    """
    from ase import Atoms

    attrs = resource["attributes"]
    symbols, positions = attrs.get("species_at_sites"), attrs.get("cartesian_site_positions")
    if symbols is None or positions is None:
        raise ValueError(f"structure {resource.get('id')} has no per-site data (species_at_sites, positions)")
    dims = attrs.get("dimension_types") or [0, 0, 0]
    cell = attrs.get("lattice_vectors")
    periodic = [bool(d) for d in dims]
    if cell is None or any(x is None for row in cell for x in row):
        return Atoms(symbols=symbols, positions=positions, pbc=False)
    return Atoms(symbols=symbols, positions=positions, cell=cell, pbc=periodic)


__all__ = ["ATTRIBUTES", "response_field_names", "structure_attributes", "to_atoms", "to_resource"]
