"""The atomization-delta study: XYZ parsing, the pair-distance representation, the G4MP2 dataset
published through Connect, the Δ-model against its baselines on held-out molecules, and the servable
run through the hub like the model itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub.exceptions import InputValidationError, ServableRunError
from servables.atomization_delta import features as pair_distances
from servables.atomization_delta import publish as study
from servables.atomization_delta.data import (
    ENERGY_TABLE,
    fetch_public_copy,
    join_energies,
    low_fidelity_energies,
    structures_frame,
)
from servables.atomization_delta.features import PairDistanceFeatures
from servables.atomization_delta.xyz import from_arrays, parse_xyz, to_xyz

WATER = "3\nwater\nO 0.0 0.0 0.117\nH 0.0 0.757 -0.469\nH 0.0 -0.757 -0.469\n"
#: Acetic acid as the data set writes it: extended XYZ with a Z column, then the G4MP2 block.
ACETIC_ACID = """8
Lattice="1.0 0.0 0.0 0.0 1.0 0.0 0.0 0.0 1.0" Properties=species:S:1:pos:R:3:Z:I:1 pbc="F F F"
C      -0.09411800       0.12766000      -0.00000200        6
O      -0.64288300       1.19878500      -0.00003400        8
O      -0.77712600      -1.04337800      -0.00000200        8
H      -1.71647800      -0.80548800      -0.00002800        1
C       1.39451800      -0.11031600       0.00003200        6
H       1.67881500      -0.69348200       0.88056500        1
H       1.67884200      -0.69360500      -0.88041000        1
H       1.91648500       0.84526300      -0.00002300        1
G4MP2-0K                                             (Ha): -228.818656
Solvation Energies (kcal/mol)
Water    -4.9022
"""


def test_parse_xyz_reads_many_molecules_at_once() -> None:
    batch = parse_xyz([WATER, ACETIC_ACID], ("H", "C", "O"))
    assert batch.species.shape == (2, 8) and batch.n_atoms.tolist() == [3, 8]
    assert batch.species[0].tolist() == [2, 0, 0, -1, -1, -1, -1, -1]  # O H H, then padding
    np.testing.assert_allclose(batch.positions[1, 7], [1.916485, 0.845263, -0.000023])
    np.testing.assert_array_equal(batch.counts(), [[2, 0, 1], [4, 2, 2]])
    assert batch.heavy_atoms().tolist() == [1, 4]
    again = parse_xyz([to_xyz(["O", "H", "H"], batch.positions[0, :3])], ("H", "C", "O"))
    np.testing.assert_allclose(again.positions[0], batch.positions[0, :3])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "three\nx\nO 0 0 0\n",
            "molecule 1: the first line of an XYZ text is the number of atoms, got 'three'",
        ),
        ("3\nx\nO 0 0 0\nH 0 0 1\n", "molecule 1: the first line announces 3 atoms but 2 atom line"),
        ("1\nx\nO 0 zero 0\n", "molecule 1: the coordinate 'zero' is not a number"),
        (
            "2\nx\nN 0 0 0\nH 0 0 1.0\n",
            "molecule 1: element 'N' is not one the model was trained on \\(H, C, O\\)",
        ),
        ("1\nx\nO 0 0\n", "needs a symbol and x, y, z"),
        ("0\nempty\n", "molecule 1: the first line announces 0 atoms; a molecule has at least one"),
        ("1\nx\nO 0 nan 0\n", "molecule 1: a coordinate is not finite"),
    ],
)
def test_parse_xyz_names_the_molecule_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_xyz([WATER, text], ("H", "C", "O"))


def test_pair_features_are_extensive_and_invariant(monkeypatch: pytest.MonkeyPatch) -> None:
    features = PairDistanceFeatures()
    one = parse_xyz([ACETIC_ACID], features.elements)
    symbols = ["C", "O", "O", "H", "C", "H", "H", "H"]
    pos = one.positions[0]
    rng = np.random.default_rng(0)
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    order = rng.permutation(8)
    moved = pos[order] @ rotation.T + [3.0, -2.0, 7.0]
    twice = np.vstack([pos, pos + np.array([20.0, 0.0, 0.0])])  # two copies far beyond the cutoff
    batch = from_arrays(
        [symbols, [symbols[i] for i in order], symbols * 2], [pos, moved, twice], features.elements
    )
    x = features.transform(batch)
    assert x.shape == (3, 3 + 6 * 12) and len(features.feature_names()) == x.shape[1]
    np.testing.assert_allclose(x[1], x[0], atol=1e-12)  # rotation, translation, atom order
    np.testing.assert_allclose(x[2], 2 * x[0], atol=1e-12)  # extensive
    assert x[0, :3].tolist() == [4, 2, 2]
    # the C-H bonds (1.09 Å) fall on the H-C Gaussians nearest 1.09 Å; no O-O pair is bonded
    names = features.feature_names()
    assert x[0, names.index("H-C@1.11")] > 1.0
    # molecules are featurized in chunks of similar size; the rows come back in input order
    mixed = parse_xyz([ACETIC_ACID, WATER, ACETIC_ACID, WATER, WATER], features.elements)
    whole = features.transform(mixed)
    monkeypatch.setattr(pair_distances, "CHUNK", 2)
    np.testing.assert_allclose(features.transform(mixed), whole, atol=1e-12)
    np.testing.assert_allclose(whole[[0, 2]], x[[0, 0]], atol=1e-12)
    assert not np.allclose(whole[1], whole[0])
    crowded = from_arrays([["O", "H"]], [[[0, 0, 0], [0, 0, 0.1]]], features.elements)
    with pytest.raises(ValueError, match=r"molecule 0: atoms 1 and 2 are 0\.100 Å apart"):
        features.transform(crowded)


def test_energy_table_join(shared_data: Path, example_hub: Any) -> None:
    meta = study.metadata()["dataset"]
    source_id = study.submit_dataset(example_hub, shared_data / study.MIRROR_FOLDER, meta)
    energies = low_fidelity_energies(example_hub, source_id)
    # 103 rows: aromatics-orthoxylene is listed twice (.in.out and .out) with the same energies
    assert len(energies) == 102 and energies.index.is_unique
    np.testing.assert_allclose(
        energies.loc["acid-aceticacid", "E0"], energies.loc["acid-aceticacid", ["Ee", "zpe"]].sum()
    )
    structures = structures_frame(example_hub, source_id)
    with pytest.raises(ValueError, match=f"no B3LYP energy in {ENERGY_TABLE} for acid-aceticacid"):
        join_energies(structures, energies.drop("acid-aceticacid"))


def test_study_beats_both_baselines_and_runs_through_the_hub(shared_data: Path, example_hub: Any) -> None:
    report = study.publish_study(example_hub, shared_data)
    source_id = report["dataset"]
    assert report["molecules"] == 102

    # one record per molecule, found by search, with the G4MP2 block of its file
    hits = example_hub.search(f'mdf.source_id:"{source_id}" AND dft.energy_method:G4MP2', limit=1)
    assert hits.total == 102
    assert example_hub.dataset(source_id).metadata["mdf"]["source_name"] == "g4mp2_gdb_sugars"

    m = report["metrics"]
    for split in ("random", "largest"):
        delta = m[f"mae_{split}_delta_model_kcal_mol"]
        assert delta < m[f"mae_{split}_baseline_counts_kcal_mol"], split
        assert delta < m[f"mae_{split}_baseline_mean_kcal_mol"], split
        assert delta < 1.0, f"{split}: {delta} kcal/mol, Ward et al. reach about 1 kcal/mol"
    assert m["n_test_largest"] == 17 and m["n_test_random"] == 20

    name = report["servable"]
    doc = example_hub.servable(name).document
    assert name == "examples/atomization-delta"
    assert doc["dlhub"]["training_data"] == [source_id]
    options = doc["servable"]["options"]
    assert options["reference_atomic_energies"] == {"H": -0.502094, "C": -37.794203, "O": -75.002483}
    assert "globus-labs/g4mp2-atomization-energy" in options["reference_atomic_energies_source"]
    assert doc["servable"]["metrics"]["mae_largest_delta_model_kcal_mol"] == pytest.approx(
        m["mae_largest_delta_model_kcal_mol"]
    )
    assert any(r.startswith("scikit-learn==") for r in doc["dlhub"]["requirements"])

    # the servable, run in a worker, gives what the model gives in this process
    frame = study.load_molecules(example_hub, source_id)
    inputs = study.servable_inputs(frame)
    out = example_hub.run(name, inputs)
    local = study.train(frame)(inputs)
    assert len(out) == 102
    np.testing.assert_allclose(
        [o["g4mp2_0k"] for o in out], [o["g4mp2_0k"] for o in local], rtol=0, atol=1e-9
    )
    g4mp2 = np.array([o["g4mp2_0k"] for o in out])
    assert np.abs(g4mp2 - frame["g4mp2_0k"]).mean() * 627.5 < 0.5  # fitted on these molecules
    counts = study.batch_of(frame).counts()
    refs = np.array([-0.502094, -37.794203, -75.002483])
    np.testing.assert_allclose([o["atomization_energy"] for o in out], counts @ refs - g4mp2, atol=1e-9)
    assert min(o["atomization_energy"] for o in out) > 0.2  # Hartree, positive: atomizing costs energy

    # the XYZ text as the data set's files hold it (trailing energies, extended columns) is accepted
    raw = (shared_data / study.MIRROR_FOLDER / "acid-aceticacid.xyz").read_text()
    u0 = float(frame.loc[frame["name"] == "acid-aceticacid", "u0"].iloc[0])
    (pred,) = example_hub.run(name, [{"xyz": raw, "u0": u0}])
    assert pred["g4mp2_0k"] == pytest.approx(-228.818656, abs=2e-3)


def test_servable_says_what_is_wrong_with_an_input(shared_data: Path, example_hub: Any) -> None:
    name = study.publish_study(example_hub, shared_data)["servable"]
    with pytest.raises(InputValidationError, match="missing 'u0'"):
        example_hub.run(name, [{"xyz": WATER}])
    with pytest.raises(ServableRunError, match="molecule 1: element 'N' is not one the model was trained on"):
        example_hub.run(name, [{"xyz": WATER, "u0": -76.4}, {"xyz": "1\nammonia?\nN 0 0 0\n", "u0": -56.5}])
    with pytest.raises(ServableRunError, match="molecule 0: u0 is nan; give the B3LYP 0 K energy in Hartree"):
        example_hub.run(name, [{"xyz": WATER, "u0": float("nan")}])


def test_data_from_its_public_home_through_the_catalog_mirror(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATTERHUB_MIRROR", str(shared_data))
    monkeypatch.setenv("MATTERHUB_OFFLINE", "1")  # the mirror must be enough: no network
    copy = fetch_public_copy(tmp_path / "public")
    assert copy == tmp_path / "public" / study.MIRROR_FOLDER  # laid out as in the mirror
    original = shared_data / study.MIRROR_FOLDER
    names = sorted(p.name for p in copy.iterdir())
    assert len(names) == 103 and "Energy_GDB_data.txt" in names
    assert names == sorted(p.name for p in original.iterdir() if p.suffix in (".xyz", ".txt"))
    assert (copy / "acid-aceticacid.xyz").read_bytes() == (original / "acid-aceticacid.xyz").read_bytes()
    with pytest.raises(FileNotFoundError, match="holds no g4mp2/GDB_Sugar_Data"):
        study.data_folder(tmp_path)
