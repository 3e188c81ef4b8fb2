"""The properties of the hub's OPTIMADE ``structures`` and where each lives in the index.

One table serves the filter translator (which hub field a property compares), the
``info/structures`` endpoint (type, unit, sortable) and the response builder (which
attributes exist).  Standard properties come first; the hub's own are under the
provider prefix ``_matterhub_``.  Nested names (``_matterhub_energies.total_energy``)
are queryable parts of a dictionary or list-of-dictionaries property.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.optimade.fields import BLOCK

PREFIX = "matterhub"
#: Energies of a structure in the record's ``dft`` block (eV), served as ``_matterhub_energies``.
ENERGY_KEYS = ("total_energy", "zero_point_energy", "thermal_energy", "enthalpy", "free_energy")
#: The rest of the ``dft`` block served as ``_matterhub_dft``.
DFT_KEYS = (
    "code",
    "code_version",
    "method",
    "basis_set",
    "energy_method",
    "converged",
    "termination",
    "cutoff_energy",
)
#: File fields served in ``_matterhub_files``.
FILE_KEYS = ("path", "filename", "length", "sha256", "mime_type", "data_type")


@dataclass(frozen=True)
class Property:
    """One OPTIMADE property.

    Attributes
    ----------
    name, type, description, unit
        As ``info/structures`` lists them (``type`` is an OPTIMADE data type:
        string, integer, float, boolean, timestamp, list, dictionary).
    path
        The index field a filter compares (None: not queryable, only ``IS KNOWN``).
    items
        For a list: the type of its items.
    match
        How strings compare: ``symbol`` (element symbols: a plain term is exact),
        ``marked`` (every value holds a character other than a-z and 0-9, which makes
        case-sensitive substring matching exact; see :mod:`.translate`), or ``text``.
    length_path
        For a list: an integer field holding its length (``LENGTH``).
    fixed_length
        For a list: the length every known value has.
    known
        A hub query matching the structures where the property is known; None when it
        is known for every structure.
    sortable
        Whether ``sort`` accepts it (numbers and timestamps: fast fields).
    listed
        Whether ``info/structures`` lists it (nested names are not).
    constant
        ``(value,)`` for a property with the same value for every structure (``type``,
        ``structure_features``): filters on it are evaluated, not searched.
    guarded
        Whether a filter must also require ``known``: the field at ``path`` is known for
        structures where this property is not (``species_at_sites`` reads ``elements``).
    """

    name: str
    type: str
    description: str
    unit: str | None = None
    path: str | None = None
    items: str | None = None
    match: str = "text"
    length_path: str | None = None
    fixed_length: int | None = None
    known: str | None = None
    sortable: bool = False
    listed: bool = True
    constant: tuple[object] | None = None
    guarded: bool = False


def _o(name: str) -> str:
    return f"{BLOCK}.{name}"


_SITES_KNOWN = f"{_o('sites')}:true"
_DIMS_KNOWN = f"_exists_:{_o('nperiodic_dimensions')}"

STANDARD: tuple[Property, ...] = (
    Property("id", "string", "The record id: <source_id>.<n> (one structure per record).",
             path="mdf.record_id", match="marked"),
    Property("type", "string", "Always 'structures'.", constant=("structures",)),
    Property("last_modified", "timestamp", "When the record's dataset version was ingested.",
             path="mdf.ingest_date", known="_exists_:mdf.ingest_date", sortable=True),
    Property("elements", "list", "The chemical symbols of the elements present, in alphabetical order.",
             path=_o("elements"), items="string", match="symbol", length_path=_o("nelements")),
    Property("nelements", "integer", "The number of different elements.", path=_o("nelements"),
             sortable=True),
    Property("elements_ratios", "list", "The proportions of the elements, in the order of `elements`.",
             path=_o("elements_ratios"), items="float", length_path=_o("nelements")),
    Property("chemical_formula_descriptive", "string",
             "The record's own formula (material.composition): the molecular formula of a molecule, "
             "the reduced formula of a crystal.", path=_o("chemical_formula_descriptive"), match="marked"),
    Property("chemical_formula_reduced", "string",
             "Elements in alphabetical order with their smallest integer proportions.",
             path=_o("chemical_formula_reduced"), match="marked"),
    Property("chemical_formula_anonymous", "string",
             "The reduced formula with the elements ordered by proportion and named A, B, C, ...",
             path=_o("chemical_formula_anonymous"), match="marked"),
    Property("dimension_types", "list", "Periodic (1) or not (0) along each lattice vector; [0, 0, 0] for "
             "a molecule.", path=_o("dimension_types"), items="integer", fixed_length=3, known=_DIMS_KNOWN),
    Property("nperiodic_dimensions", "integer", "The number of periodic directions.",
             path=_o("nperiodic_dimensions"), known=_DIMS_KNOWN, sortable=True),
    Property("lattice_vectors", "list", "The three cell vectors (rows); vectors of nulls for a molecule.",
             unit="Å", known=f"_exists_:crystal_structure.lattice OR {_o('nperiodic_dimensions')}:0"),
    Property("cartesian_site_positions", "list", "The position of each site.", unit="Å", known=_SITES_KNOWN),
    Property("nsites", "integer", "The number of sites (atoms).", path=_o("nsites"), sortable=True),
    Property("species", "list", "One species per element, named by its chemical symbol.",
             known=_SITES_KNOWN),
    Property("species_at_sites", "list", "The species name of each site, in the order of "
             "`cartesian_site_positions` (species are named by their element).", path=_o("elements"),
             items="string", match="symbol", length_path=_o("nsites"), known=_SITES_KNOWN, guarded=True),
    Property("structure_features", "list", "Special features used by the structure: none (no disorder, "
             "assemblies, implicit atoms or site attachments).", items="string", constant=((),)),
    Property("space_group_it_number", "integer", "The space group number (spglib, symprec 1e-3 Å) of a "
             "crystal periodic in three directions.", path="crystal_structure.space_group_number",
             known="_exists_:crystal_structure.space_group_number", sortable=True),
)  # fmt: skip


def _p(name: str) -> str:
    return f"_{PREFIX}_{name}"


def _any_exists(paths: list[str]) -> str:
    return " OR ".join(f"_exists_:{p}" for p in paths)


PROVIDER: tuple[Property, ...] = (
    Property(_p("dataset"), "string", "The dataset version (source_id) holding the record: open it with "
             "hub.dataset(...) or /api/datasets/<source_id>.", path="mdf.source_id", match="marked"),
    Property(_p("files"), "list", "The record's files: path, filename, length (bytes), sha256, mime_type, "
             "data_type."),
    Property(_p("energies"), "dictionary", f"Energies of the structure (eV): {', '.join(ENERGY_KEYS)}.",
             unit="eV", known=_any_exists([f"dft.{k}" for k in ENERGY_KEYS])),
    Property(_p("dft"), "dictionary", f"The calculation: {', '.join(DFT_KEYS)} (cutoff_energy in eV).",
             known=_any_exists([f"dft.{k}" for k in DFT_KEYS])),
)  # fmt: skip

_DFT_TYPES = {"converged": "boolean", "cutoff_energy": "float"}
NESTED: tuple[Property, ...] = (
    *(
        Property(f"{_p('energies')}.{k}", "float", f"dft.{k} (eV)", unit="eV", path=f"dft.{k}",
                 known=f"_exists_:dft.{k}", sortable=True, listed=False)
        for k in ENERGY_KEYS
    ),
    *(
        Property(f"{_p('dft')}.{k}", _DFT_TYPES.get(k, "string"), f"dft.{k}", path=f"dft.{k}",
                 known=f"_exists_:dft.{k}", sortable=k == "cutoff_energy", listed=False)
        for k in DFT_KEYS
    ),
    *(
        Property(f"{_p('files')}.{k}", "list", f"files.{k} of every file", path=f"files.{k}",
                 items="integer" if k == "length" else "string", known=f"_exists_:files.{k}", listed=False)
        for k in FILE_KEYS
    ),
)  # fmt: skip

PROPERTIES: dict[str, Property] = {p.name: p for p in (*STANDARD, *PROVIDER, *NESTED)}
#: The attributes of a structure resource (every listed property but id and type).
ATTRIBUTES: tuple[str, ...] = tuple(p.name for p in (*STANDARD, *PROVIDER) if p.name not in ("id", "type"))
