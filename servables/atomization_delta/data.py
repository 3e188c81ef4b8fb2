"""The G4MP2 molecules as an MDF dataset: submit through Connect, find by search, load through Intake.

The data set (``g4mp2/GDB_Sugar_Data`` of Ward et al.'s repository) is a folder
of 102 extended XYZ files, each followed by its G4MP2 energies, and one table,
``Energy_GDB_data.txt``, of the low-fidelity (B3LYP/6-31G(2df,p)) zero-point,
0 K (``E0``) and electronic energies keyed by file name (``<name>.in.out``).

* :func:`submit_dataset` publishes the folder through Connect: the hub's XYZ
  extractor makes one record per molecule (composition, sites, and the G4MP2
  block as ``dft.total_energy`` etc., in eV), the table is kept as a file of
  the dataset, and the submission's mapping joins the table's B3LYP ``E0``
  onto each molecule's record by file name (:data:`MAPPING`: the record field
  ``custom.b3lyp_u0``, Hartree), so one record is a whole input of the
  ``atomization-delta`` servable.
* :func:`load_molecules` reads the molecule records through the hub's Intake
  catalog (the ``structures`` entry of the dataset), reads the table from the
  dataset's own stored file (checksummed), and joins the B3LYP ``E0`` to each
  molecule by name, checking that duplicated rows of the table agree.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ase.units import Hartree

#: The dataset's name in the hub (the demo hub ingests the same folder under it).
SOURCE_NAME = "g4mp2_gdb_sugars"
#: The table of low-fidelity energies inside the dataset.
ENERGY_TABLE = "Energy_GDB_data.txt"
#: The folder of the data under a mirror root (``$MATTERHUB_MIRROR`` or ``../shared/data``).
MIRROR_FOLDER = Path("g4mp2") / "GDB_Sugar_Data"
#: The record field of each molecule's B3LYP 0 K energy (Hartree), joined from the table.
U0_FIELD = "custom.b3lyp_u0"
#: The submission's mapping: the table's ``E0`` onto the record of the file its row names.
MAPPING = {U0_FIELD: f"{ENERGY_TABLE}:E0 by filename"}


def molecule_name(path: str) -> str:
    """The molecule's name from a file name: ``acid-aceticacid.xyz`` and
    ``acid-aceticacid.in.out`` both give ``acid-aceticacid``."""
    return Path(str(path)).name.split(".")[0]


def fetch_public_copy(root: Path | None = None) -> Path:
    """The data set's folder, copied from its public home (and returned).

    The files are those of the public catalog ``catalogs/g4mp2.yaml`` (Ward et
    al.'s repository at a pinned commit), laid out under ``root`` (default: the
    download cache) as in the mirror, read from ``$MATTERHUB_MIRROR`` when it
    holds a copy and downloaded (and cached, checksummed where the catalog knows
    the sha256) otherwise: see :func:`hub.catalog.locate.public_mirror`.
    """
    from hub.catalog.locate import public_mirror

    return public_mirror("g4mp2", ["molecules_data", "low_fidelity_energies_data"], root) / MIRROR_FOLDER


def submit_dataset(hub: Any, folder: Path, meta: dict[str, Any]) -> str:
    """The source_id of the G4MP2 dataset, submitting ``folder`` when the hub does not have it yet.

    Raises
    ------
    RuntimeError
        When the submission fails or a file of it could not be read.
    """
    try:
        return str(hub.dataset(meta["source_name"]).metadata["mdf"]["source_id"])
    except Exception:
        pass
    sub = hub.submit(
        folder,
        title=meta["title"],
        authors=meta["authors"],
        source_name=meta["source_name"],
        description=" ".join(meta["description"].split()),
        related_dois=meta["related_dois"],
        custom=meta.get("custom", {}),
        mapping=MAPPING,
        progress=False,
    )
    if not sub.ok or sub.errors:
        raise RuntimeError(f"the G4MP2 data could not be submitted: {sub.message or sub.errors}")
    return str(sub.source_id)


def structures_frame(hub: Any, source_id: str) -> pd.DataFrame:
    """The molecule records of the dataset, read through its Intake catalog (one row per molecule)."""
    cat = hub.catalog(f'mdf.source_id:"{source_id}"')
    if source_id not in cat:
        raise LookupError(f"{source_id} is not in the hub's catalog (entries: {list(cat)})")
    frame: pd.DataFrame = cat[source_id].read()["structures"].read()
    return frame


def low_fidelity_energies(hub: Any, source_id: str) -> pd.DataFrame:
    """The B3LYP energy table stored with the dataset, one row per molecule (Hartree).

    The table names some molecules twice (``x.in.out`` and ``x.out``); such
    duplicates must agree and are kept once.

    Raises
    ------
    ValueError
        When two rows of one molecule disagree.
    """
    with hub.open(source_id, ENERGY_TABLE) as fh:
        table = pd.read_csv(io.BytesIO(fh.read()), sep=r"\s+")
    table["name"] = table["filename"].map(molecule_name)
    columns = ["zpe", "E0", "Ee"]
    spread = table.groupby("name")[columns].agg(lambda s: s.max() - s.min()).max(axis=1)
    conflicting = spread[spread > 1e-9]
    if len(conflicting):
        raise ValueError(f"{ENERGY_TABLE} gives different energies for {', '.join(conflicting.index)}")
    return table.drop_duplicates("name").set_index("name")[columns]


def join_energies(structures: pd.DataFrame, energies: pd.DataFrame) -> pd.DataFrame:
    """One row per molecule: name, formula, symbols, positions (Å), heavy atoms, and the
    B3LYP ``u0``, G4MP2 ``g4mp2_0k`` and ``delta`` = ``g4mp2_0k - u0`` (Hartree).

    Raises
    ------
    ValueError
        When a molecule has no B3LYP energy in the table.
    """
    mols = structures[structures["energy_method"] == "G4MP2"].copy()
    mols["name"] = mols["path"].map(molecule_name)
    missing = sorted(set(mols["name"]) - set(energies.index))
    if missing:
        raise ValueError(f"no B3LYP energy in {ENERGY_TABLE} for {', '.join(missing)}")
    out = pd.DataFrame(
        {
            "name": mols["name"],
            "formula": mols["formula"],
            "symbols": mols["species_at_sites"].map(list),
            "positions": mols["cartesian_site_positions"].map(lambda p: np.asarray([list(r) for r in p])),
            "n_atoms": mols["number_of_atoms"].astype(int),
            "u0": energies.loc[mols["name"], "E0"].to_numpy(),
            "g4mp2_0k": mols["total_energy"].to_numpy() / Hartree,
        }
    )
    out["n_heavy"] = out["symbols"].map(lambda s: sum(x != "H" for x in s))
    out["delta"] = out["g4mp2_0k"] - out["u0"]
    return out.sort_values("name").reset_index(drop=True)


def load_molecules(hub: Any, source_id: str) -> pd.DataFrame:
    """The molecules of the dataset with their B3LYP and G4MP2 energies (see :func:`join_energies`)."""
    return join_energies(structures_frame(hub, source_id), low_fidelity_energies(hub, source_id))
