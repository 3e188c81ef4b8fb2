"""Structure and calculation records as pandas DataFrames, with ASE ``Atoms`` on demand.

:func:`records_frame` turns MDF records (``material``, ``crystal_structure``,
``dft`` blocks) into one row per record: formula, elements, space group,
lattice, volume, energies, code, method, ...  The per-site lists
(``species_at_sites``, ``cartesian_site_positions``) and the ``lattice`` and
``pbc`` stay in the frame, so :func:`to_atoms` (or the ``df.atoms`` accessor)
builds an :class:`ase.Atoms` for any row when it is asked for.

Three readers produce such frames: :class:`StructureFilesReader` runs
MatterHub's extractors on structure and calculation files (CIF, POSCAR, XYZ
with G4MP2 energies, VASP/Quantum ESPRESSO/Gaussian runs);
:class:`ASEMoleculesReader` reads the molecule tables ASE ships
(``ase.data.g2_1``: the G2-1 set with experimental atomization energies);
:class:`hub.catalog.hubdata.HubRecordsReader` reads a hub's records.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intake.readers.readers import BaseReader

from hub.catalog import locate
from hub.catalog.base import HubReader
from hub.catalog.datatypes import PythonData, StructureFiles

if TYPE_CHECKING:
    import pandas as pd
    from ase import Atoms

#: Record groups of a dataset and the blocks that put a record in each.
RECORD_GROUPS: dict[str, tuple[str, ...]] = {
    "structures": ("crystal_structure", "dft", "material"),
    "images": ("image", "electron_microscopy"),
    "tables": ("table",),
    "arrays": ("arrays",),
}
#: Leading columns of a structures frame: (column, record path).
STRUCTURE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("record_id", "mdf.record_id"),
    ("path", "files.0.path"),
    ("formula", "material.composition"),
    ("elements", "material.elements"),
    ("number_of_atoms", "crystal_structure.number_of_atoms"),
    ("stoichiometry", "crystal_structure.stoichiometry"),
    ("space_group", "crystal_structure.space_group_number"),
    ("space_group_symbol", "crystal_structure.space_group_symbol"),
    ("volume", "crystal_structure.volume"),
    ("lattice", "crystal_structure.lattice"),
    ("pbc", "crystal_structure.pbc"),
    ("code", "dft.code"),
    ("code_version", "dft.code_version"),
    ("method", "dft.method"),
    ("basis_set", "dft.basis_set"),
    ("converged", "dft.converged"),
    ("total_energy", "dft.total_energy"),
    ("cutoff_energy", "dft.cutoff_energy"),
    ("species_at_sites", "crystal_structure.species_at_sites"),
    ("cartesian_site_positions", "crystal_structure.cartesian_site_positions"),
)
#: Units of the columns that have one (MDF's: eV, Å, Å^3, keV).
UNITS = {
    "volume": "Å^3",
    "lattice": "Å",
    "cartesian_site_positions": "Å",
    "total_energy": "eV",
    "cutoff_energy": "eV",
    "zero_point_energy": "eV",
    "thermal_energy": "eV",
    "enthalpy": "eV",
    "free_energy": "eV",
    "atomization_energy": "eV",
    "atomization_energy_kcal_mol": "kcal/mol",
}
_SKIP_BLOCKS = ("mdf", "files")


def record_group(record: Mapping[str, Any]) -> str | None:
    """The group of a record: the first of :data:`RECORD_GROUPS` whose blocks it has."""
    for name, blocks in RECORD_GROUPS.items():
        if any(record.get(b) for b in blocks):
            return name
    return None


def _get(doc: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(doc, Mapping):
            doc = doc.get(key)
        elif isinstance(doc, list) and key.isdigit() and int(key) < len(doc):
            doc = doc[int(key)]
        else:
            return None
    return doc


def _flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def records_frame(records: Iterable[Mapping[str, Any]], kind: str = "structures") -> pd.DataFrame:
    """One row per record.

    Parameters
    ----------
    records
        MDF record documents (or record bodies without the ``mdf`` block).
    kind
        ``"structures"``: the named columns of :data:`STRUCTURE_COLUMNS` first,
        then every other ``dft`` field under its own name (``zero_point_energy``,
        ``energy_method``, ``solvation_energies.water``, ...) and every other
        field as its dotted path.  Any other kind: every field as its dotted path.

    Returns
    -------
    pandas.DataFrame
        ``df.attrs["units"]`` gives the units of the columns that have one.
    """
    import pandas as pd

    register_accessor()
    rows: list[dict[str, Any]] = []
    for rec in records:
        if kind != "structures":
            row = {"record_id": _get(rec, "mdf.record_id"), "path": _get(rec, "files.0.path")}
            row.update(_flatten({k: v for k, v in rec.items() if k not in _SKIP_BLOCKS}))
            rows.append(row)
            continue
        row = {col: _get(rec, path) for col, path in STRUCTURE_COLUMNS}
        named = {path for _, path in STRUCTURE_COLUMNS}
        for key, value in _flatten(rec.get("dft") or {}).items():
            if f"dft.{key}" not in named:
                row[key] = value
        for block, body in rec.items():
            if block in _SKIP_BLOCKS or block == "dft" or not isinstance(body, Mapping):
                continue
            for key, value in _flatten(body, block).items():
                if key not in named:
                    row[key] = value
        rows.append(row)
    df = pd.DataFrame(rows)
    if kind == "structures" and not df.empty:
        df = df.dropna(axis=1, how="all")
    df.attrs["units"] = {k: v for k, v in UNITS.items() if k in df.columns}
    return df


# -- ASE Atoms on demand --------------------------------------------------------------------


def to_atoms(item: Any) -> Atoms:
    """An :class:`ase.Atoms` from a row of a structures frame or a record document.

    The row (or record) needs ``species_at_sites`` and
    ``cartesian_site_positions``; ``lattice`` and ``pbc`` are used when present.
    ``atoms.info`` gets the row's formula, record id and energies.

    Raises
    ------
    ValueError
        When the sites are missing (records of more than 5000 sites leave them out).
    """
    from ase import Atoms

    if isinstance(item, Mapping) and "crystal_structure" in item:
        cs = item.get("crystal_structure") or {}
        get = {
            "species_at_sites": cs.get("species_at_sites"),
            "cartesian_site_positions": cs.get("cartesian_site_positions"),
            "lattice": cs.get("lattice"),
            "pbc": cs.get("pbc"),
            "record_id": _get(item, "mdf.record_id"),
            "formula": _get(item, "material.composition"),
            "total_energy": _get(item, "dft.total_energy"),
        }
    else:
        get = {
            k: item.get(k) if hasattr(item, "get") else None
            for k in (
                "species_at_sites",
                "cartesian_site_positions",
                "lattice",
                "pbc",
                "record_id",
                "formula",
                "total_energy",
            )
        }
    symbols, positions = get["species_at_sites"], get["cartesian_site_positions"]
    if not _present(symbols) or not _present(positions):
        raise ValueError(
            "this row has no per-site data (species_at_sites, cartesian_site_positions), so no Atoms "
            "can be built; records of structures above 5000 sites leave the sites out: read the file itself."
        )
    lattice, pbc = get["lattice"], get["pbc"]
    atoms = Atoms(
        symbols=list(symbols),
        positions=[list(p) for p in positions],
        cell=[list(v) for v in lattice] if _present(lattice) else None,
        pbc=[bool(p) for p in pbc] if _present(pbc) else False,
    )
    for key in ("record_id", "formula", "total_energy"):
        if _present(get[key]):
            atoms.info[key] = get[key]
    return atoms


def _present(value: Any) -> bool:
    if value is None:
        return False
    try:
        import pandas as pd

        if not isinstance(value, (list, tuple)) and pd.isna(value):
            return False
    except (TypeError, ValueError):
        pass
    return True


def register_accessor() -> None:
    """Register the ``df.atoms`` accessor with pandas (done by every reader of structures frames)."""
    import pandas as pd

    if "atoms" in getattr(pd.DataFrame, "_accessors", set()):
        return

    @pd.api.extensions.register_dataframe_accessor("atoms")
    class AtomsAccessor:
        """``df.atoms[label]``, ``df.atoms.iloc(i)``, ``list(df.atoms)``: ASE Atoms of a structures frame."""

        def __init__(self, df: pd.DataFrame) -> None:
            missing = {"species_at_sites", "cartesian_site_positions"} - set(df.columns)
            if missing:
                raise AttributeError(
                    f"df.atoms needs the columns {sorted(missing)} of a structures frame "
                    "(hub.catalog.records_frame); this frame has none of them"
                )
            self._df = df

        def __getitem__(self, label: Any) -> Atoms:
            return to_atoms(self._df.loc[label])

        def iloc(self, i: int) -> Atoms:
            return to_atoms(self._df.iloc[i])

        def __iter__(self) -> Iterator[Atoms]:
            for _, row in self._df.iterrows():
                yield to_atoms(row)

        def __len__(self) -> int:
            return len(self._df)

        def to_list(self) -> list[Atoms]:
            return list(self)


# -- reading structure and calculation files -----------------------------------------------


def extract_records(folder: Path, files: Sequence[Path] | None = None) -> list[dict[str, Any]]:
    """Records of the structure and calculation files under ``folder``, by MatterHub's extractors.

    Files no structure-aware extractor claims are skipped; a file an extractor
    cannot read raises (reading a catalog entry is not a submission).
    """
    from hub.connect import extract
    from hub.connect.merge import merge_parts
    from hub.exceptions import ExtractionError
    from hub.extractors.base import ExtractionContext
    from hub.extractors.registry import available_extractors

    wanted = {"crystal", "molecule_xyz", "vasp", "espresso", "quantum_chemistry"}
    extractors = [e for e in available_extractors() if e.name in wanted]
    if files is None:
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    context = ExtractionContext(root=folder)
    records: list[dict[str, Any]] = []
    for result in extract.run(extract.plan(list(files), extractors, context), context):
        if not result.parts:
            if result.errors:
                err = result.errors[0]
                raise ExtractionError(f"{err['path']}: {err['message']}", file=err["path"])
            continue
        for body, _names in merge_parts(result.parts):
            rel = [f.relative_to(folder).as_posix() for f in result.files]
            records.append({**body, "files": [{"path": p, "filename": Path(p).name} for p in rel]})
    return records


class StructureFilesReader(HubReader):
    """Structure and calculation files as a structures DataFrame (one row per structure or run).

    The files are read by MatterHub's extractors (ASE and spglib underneath):
    CIF, POSCAR/CONTCAR, XYZ with G4MP2-style energies, VASP, Quantum ESPRESSO
    and Gaussian runs.  ``df.atoms[i]`` builds the ASE Atoms of row ``i``.
    """

    implements = {StructureFiles}
    imports = {"matterhub", "ase", "spglib", "pandas"}
    output_instance = "pandas:DataFrame"
    func = "hub.catalog.structures:extract_records"

    def _read(self, data: StructureFiles, **kwargs: Any) -> pd.DataFrame:
        folder = self._folder(data)
        df = records_frame(extract_records(folder))
        df.attrs["source"] = data.url
        return df

    def _folder(self, data: StructureFiles) -> Path:
        """One local folder holding every file of ``data`` under its own name."""
        urls = locate.expand(data.url)
        mirror = self._mirror(data)
        sha = data.metadata.get("sha256")
        shas = sha if isinstance(sha, Mapping) else {}
        locals_: list[tuple[str, Path]] = []
        for url in urls:
            path = locate.local_file(
                url,
                storage_options=data.storage_options,
                mirror=mirror,
                sha256=shas.get(url) if shas else (sha if len(urls) == 1 and isinstance(sha, str) else None),
            )
            if path.is_dir():
                locals_.append(("", path))
            elif locate.is_archive(url) and not locate.mirrored(url, mirror):
                locals_.append(("", locate.unpacked(path)))
            else:
                name = data.metadata.get("filename") if len(urls) == 1 else None
                locals_.append((str(name or locate.basename(url)), path))
        if len(locals_) == 1 and locals_[0][0] == "":
            return locals_[0][1]
        digest = hashlib.sha256("\n".join(str(p) for _, p in locals_).encode()).hexdigest()[:24]
        folder = locate.cache_dir() / "sets" / digest
        folder.mkdir(parents=True, exist_ok=True)
        for name, path in locals_:
            if not name:  # a whole folder inside a set: link it under its own name
                name = path.name
            link = folder / name
            if not link.exists():
                tmp = folder / f".{name}.{os.getpid()}"
                os.symlink(path.resolve(), tmp)
                os.replace(tmp, link)
        return folder


class ASEMoleculesReader(BaseReader):  # type: ignore[misc]
    """A molecule table that ASE ships (``ase.data.g2_1``, ``ase.data.g2_2``) as a structures DataFrame.

    One row per molecule: name, formula, description, experimental enthalpy of
    formation (kcal/mol), ZPE, the experimental atomization energy (eV and
    kcal/mol, from the module's ``get_atomization_energy``), and the sites,
    so ``df.atoms[name]`` builds the molecule.
    """

    implements = {PythonData}
    imports = {"ase", "pandas"}
    output_instance = "pandas:DataFrame"
    func = "ase.data.g2_1:get_atomization_energy"

    def _read(self, data: PythonData, atoms_only: bool = False, **kwargs: Any) -> pd.DataFrame:
        import pandas as pd
        from ase import Atoms, units

        from hub.extractors.crystal import atoms_to_record

        module = importlib.import_module(data.module)
        names = list(getattr(module, "molecule_names", module.data))
        if atoms_only is False and hasattr(module, "atom_names"):
            names = [n for n in names if n not in set(module.atom_names)]
        kcal = units.kcal / units.mol
        rows = []
        for name in names:
            entry = module.data[name]
            atoms = Atoms(entry["symbols"], positions=entry["positions"])
            record = atoms_to_record(atoms)
            record["mdf"] = {"record_id": name}
            row = records_frame([record]).iloc[0].to_dict()
            row.pop("path", None)
            row.update(
                {
                    "name": name,
                    "description": entry.get("description"),
                    "database": entry.get("database"),
                    "enthalpy_kcal_mol": entry.get("enthalpy"),
                    "zpe_kcal_mol": entry.get("ZPE"),
                    "ionization_energy": entry.get("ionization energy"),
                }
            )
            getter = getattr(module, "get_atomization_energy", None)
            if getter is not None and "ZPE" in entry:
                ae = float(getter(name))
                row["atomization_energy_kcal_mol"] = ae
                row["atomization_energy"] = ae * kcal
            rows.append(row)
        df = pd.DataFrame(rows).set_index("name", drop=False)
        df.index.name = None
        df.attrs["units"] = {
            **{k: v for k, v in UNITS.items() if k in df.columns},
            "enthalpy_kcal_mol": "kcal/mol",
            "zpe_kcal_mol": "kcal/mol",
            "ionization_energy": "eV",
        }
        df.attrs["source"] = data.module
        df.attrs["reference"] = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
        return df
