"""Pipelines on an embedded hub: three servables (one a Keras model) with an adapter, data
sources (a search, a dataset file of real data), refusals at publish time, a failing
middle step, discovery, access, the trace, batches and tasks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pytest

from hub import Hub
from hub.api import HubAPI
from hub.db.database import Database
from hub.exceptions import AccessDeniedError, ServableRunError, ValidationError
from hub.index.engine import SearchIndex
from hub.pipelines import DatasetFile, RunTrace, Search
from hub.servables import codec
from hub.servables.keras import import_keras
from hub.servables.parts import ServableParts
from hub.store.blobs import BlobStore

keras = import_keras()
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def featurize(x: Annotated[np.ndarray, (None, 3)]) -> Annotated[np.ndarray, (None, 4)]:
    """Each row with its sum appended."""
    return np.concatenate([x, x.sum(axis=1, keepdims=True)], axis=1)


def halve(x: np.ndarray) -> np.ndarray:
    """An adapter: float32 halves (what the Keras model takes)."""
    return (np.asarray(x) * 0.5).astype("float32")


def readout(y: np.ndarray) -> float:
    """The sum of every output."""
    return float(np.asarray(y, dtype="float64").sum())


def takes_three(x: Annotated[np.ndarray, (None, 3)]) -> float:
    return float(x.sum())


def explode(x: np.ndarray) -> np.ndarray:
    raise ValueError(f"no good at {x.shape[0]} rows")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pipelines-hub")


@pytest.fixture(scope="module")
def alice(home: Path) -> Iterator[HubAPI]:
    hub = Hub(home, user="alice", progress=False)
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def bob(home: Path, alice: HubAPI) -> Iterator[HubAPI]:
    hub = Hub(home, user="bob", progress=False)
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def model() -> Any:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [keras.Input((4,), name="features"), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)],
        name="tiny",
    )


@pytest.fixture(scope="module")
def steps(alice: HubAPI, model: Any) -> dict[str, str]:
    return {
        "featurize": alice.publish_servable(alice.describe(featurize, cache=True)),
        "model": alice.publish_servable(alice.describe(model)),
        "readout": alice.publish_servable(alice.describe(readout)),
        "takes_three": alice.publish_servable(alice.describe(takes_three)),
        "explode": alice.publish_servable(alice.describe(explode)),
    }


@pytest.fixture(scope="module")
def pipeline(alice: HubAPI, steps: dict[str, str]) -> str:
    desc = alice.pipeline(
        [steps["featurize"], halve, steps["model"], steps["readout"]],
        name="featurize-model-readout",
        title="Features, a tiny Keras model, and a readout",
    )
    assert desc.type == "pipeline"
    return alice.publish_servable(desc)


def expected(model: Any, x: np.ndarray) -> float:
    return readout(model.predict(halve(featurize(x)), verbose=0))


X = np.random.default_rng(0).normal(size=(5, 3))


def test_three_servables_and_an_adapter_run_hub_side(
    alice: HubAPI, pipeline: str, model: Any, steps: dict[str, str]
) -> None:
    assert alice.run(pipeline, X) == pytest.approx(expected(model, X), rel=1e-5)
    doc = alice.servable(pipeline).document
    recorded = [(s["kind"], s.get("id"), s.get("version"), s.get("pinned")) for s in doc["pipeline"]["steps"]]
    assert recorded == [
        ("servable", steps["featurize"], 1, False),
        ("adapter", None, None, None),
        ("servable", steps["model"], 1, False),
        ("servable", steps["readout"], 1, False),
    ]
    run = alice.servable(pipeline).method
    assert run.input.shape == [None, 3] and run.output.type == "float"
    assert doc["dlhub"]["files"]["step2.model"] == "model/step2/function.pkl"


def test_unpinned_steps_keep_the_version_of_publish_time(alice: HubAPI, steps: dict[str, str]) -> None:
    def readout2(y: np.ndarray) -> float:
        return -1.0

    first = alice.publish_servable(alice.pipeline([steps["featurize"], steps["readout"]], name="pinning"))
    pinned = alice.publish_servable(
        alice.pipeline([steps["featurize"], f"{steps['readout']}@1"], name="pinning-explicit")
    )
    alice.publish_servable(alice.describe(readout2, name="readout"))  # readout@2
    assert alice.run(first, X) == pytest.approx(readout(featurize(X)))
    assert alice.servable(pinned).document["pipeline"]["steps"][1]["pinned"] is True
    again = alice.publish_servable(alice.pipeline([steps["featurize"], steps["readout"]], name="pinning"))
    assert alice.servable(again).version == 2
    assert alice.run(again, X) == -1.0
    assert alice.run(f"{first}@1", X) == pytest.approx(readout(featurize(X)))


def test_a_misfit_is_refused_naming_both_steps_and_the_field(alice: HubAPI, steps: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as err:
        alice.pipeline([steps["featurize"], steps["takes_three"]], name="misfit")
    message = err.value.message
    assert "step 1 (alice/featurize@1)" in message and "step 2 (alice/takes_three@1)" in message
    assert "gives an ndarray of shape (None, 4)" in message
    assert "expects an ndarray of shape (None, 3)" in message and "'input'" in message
    assert err.value.errors[0]["field"] == "input"


def test_the_registry_checks_again_at_publish(alice: HubAPI, steps: dict[str, str]) -> None:
    desc = alice.pipeline([steps["featurize"], steps["readout"]], name="tampered")
    doc = desc.to_dict()
    doc["pipeline"]["steps"][1]["ref"] = steps["takes_three"]  # the catalog's schema is the truth
    desc.metadata = type(desc.metadata).model_validate(doc)
    with pytest.raises(ValidationError, match=r"step 2 \(alice/takes_three@1\) expects"):
        alice.publish_servable(desc)


def test_a_failing_middle_step_fails_the_run_with_its_name(alice: HubAPI, steps: dict[str, str]) -> None:
    name = alice.publish_servable(
        alice.pipeline([steps["featurize"], steps["explode"], steps["readout"]], name="failing")
    )
    with pytest.raises(ServableRunError) as err:
        alice.run(name, X)
    assert "step 2 (alice/explode@1): " in err.value.message
    assert "no good at 5 rows" in err.value.message and err.value.exc_type == "ValueError"
    config = alice.config  # type: ignore[attr-defined]
    catalog = Database(config.catalog)
    parts = ServableParts(
        catalog, BlobStore(config.store), SearchIndex(config.index), alice.principal, config.home
    )
    try:
        ran: list[Any] = []
        result = parts.runs.execute(parts.runs.plan(name, X), ran)
    finally:
        parts.close()
        catalog.close()
    assert not result.ok and result.message.startswith("step 2 (alice/explode@1): ")
    assert [s.name for s in ran] == ["alice/featurize@1", "alice/explode@1"]  # step 3 never ran


def test_discovery_and_access(alice: HubAPI, bob: HubAPI, pipeline: str) -> None:
    assert pipeline in {h.id for h in bob.servables("servable.type:pipeline", limit=50).hits}
    assert bob.run(pipeline, X) == pytest.approx(alice.run(pipeline, X))

    def private_step(x: np.ndarray) -> np.ndarray:
        return np.asarray(x)

    private = alice.publish_servable(alice.describe(private_step, runnable_by=["alice"]))
    hidden = alice.publish_servable(alice.describe(private_step, name="hidden-step", visible_to=["alice"]))
    guarded = alice.publish_servable(alice.pipeline([private, "alice/readout@1"], name="guarded"))
    assert alice.run(guarded, X) == pytest.approx(X.sum())
    with pytest.raises(AccessDeniedError) as err:
        bob.run(guarded, X)
    assert "step 1 (alice/private_step@1)" in err.value.message
    with pytest.raises(ValidationError, match=r"step 1 \(alice/hidden-step\)"):
        bob.pipeline([hidden, "alice/readout@1"], name="not-mine")
    desc = alice.pipeline([hidden, "alice/readout@1"], name="not-mine")
    with pytest.raises(ValidationError, match=r"step 1 \(alice/hidden-step\)"):
        bob.publish_servable(desc)


def test_the_trace_names_versions_hashes_and_cached_steps(alice: HubAPI, pipeline: str, model: Any) -> None:
    first = alice.run(pipeline, X, trace=True)
    again = alice.run(pipeline, X, trace=True)
    for trace in (first, again):
        assert isinstance(trace, RunTrace)
        assert [s.name for s in trace.steps] == [
            "alice/featurize@1",
            "adapter:halve",
            "alice/tiny@1",
            "alice/readout@1",
        ]
        assert [s.type for s in trace.steps] == ["python", "python", "keras", "python"]
        assert trace.output == pytest.approx(expected(model, X), rel=1e-5)
        assert trace.steps[0].input_sha256 == codec.input_hash(X)
        assert trace.steps[-1].output_sha256 == codec.input_hash(trace.output)
        for a, b in zip(trace.steps, trace.steps[1:]):
            assert a.output_sha256 == b.input_sha256
        assert trace.total_ms >= sum(s.wall_ms for s in trace.steps)
    assert again.steps[0].cached and not any(s.cached for s in again.steps[1:])
    assert RunTrace.from_dict(again.to_dict()).steps == again.steps
    plain = alice.run("alice/readout@1", X, trace=True)
    assert [(s.index, s.name) for s in plain.steps] == [(1, "alice/readout@1")]
    assert plain.steps[0].output_sha256 == codec.input_hash(float(X.sum()))


def test_batches_and_tasks(alice: HubAPI, pipeline: str, model: Any) -> None:
    xs = [X, X[:2] * 2]
    assert alice.run(pipeline, xs, batch=True) == pytest.approx([expected(model, x) for x in xs], rel=1e-5)
    task = alice.run(pipeline, X, asynchronous=True)
    assert task.outputs(timeout=120) == pytest.approx(expected(model, X), rel=1e-5)
    assert task.servable == pipeline
    with pytest.raises(ValidationError, match="synchronous"):
        alice.run(pipeline, X, asynchronous=True, trace=True)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def crystals(alice: HubAPI, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    src = tmp_path_factory.mktemp("crystals")
    shutil.copytree(shared_data / "materialsio" / "crystal_structure", src / "crystals")
    sub = alice.submit(src / "crystals", title="Four crystals", authors=["Ward, Logan"])
    assert sub.status == "complete", sub.errors
    assert sub.source_id is not None
    return sub.source_id


def atom_counts(records: list) -> np.ndarray:  # type: ignore[type-arg]
    """Atoms per structure record, in order."""
    return np.array([float(r["crystal_structure"]["number_of_atoms"]) for r in records])


def total(x: np.ndarray) -> float:
    return float(np.asarray(x).sum())


@pytest.mark.shared_data
def test_a_pipeline_starting_from_a_search(alice: HubAPI, crystals: str) -> None:
    query = f"mdf.source_id:{crystals} AND crystal_structure.number_of_atoms:*"
    sink = alice.publish_servable(alice.describe(total))
    name = alice.publish_servable(alice.pipeline([Search(query, limit=50), atom_counts, sink], name="atoms"))
    hits = alice.search(query, limit=50, kinds=["record"]).hits
    want = sum(h.document["crystal_structure"]["number_of_atoms"] for h in hits)
    assert len(hits) == 4 and alice.run(name, None) == want
    assert alice.servable(name).method.input.type == "string"
    trace = alice.run(name, None, trace=True)
    assert [s.name for s in trace.steps] == ["source:search", "adapter:atom_counts", "alice/total@1"]
    one = hits[0].document["mdf"]["record_id"]
    assert alice.run(name, f"mdf.record_id:{one}") == hits[0].document["crystal_structure"]["number_of_atoms"]


def heaviest_z(table: dict) -> float:  # type: ignore[type-arg]
    """The largest atomic number among the file's molecule's atoms."""
    from ase.data import atomic_numbers

    return float(max(atomic_numbers[s] for s in table["species_at_sites"][0]))


def doubled(x: float) -> float:
    return 2.0 * x


@pytest.mark.shared_data
def test_a_pipeline_starting_from_a_dataset_file(
    alice: HubAPI, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    src = tmp_path_factory.mktemp("g4mp2")
    for name in ("acid-aceticacid.xyz", "acid-benzoicacid.xyz"):
        shutil.copy(shared_data / "g4mp2" / "GDB_Sugar_Data" / name, src / name)
    sub = alice.submit(src, title="Two G4MP2 molecules", authors=["Ward, Logan"])
    assert sub.status == "complete" and sub.source_id is not None
    sink = alice.publish_servable(alice.describe(doubled))
    name = alice.publish_servable(
        alice.pipeline([DatasetFile(sub.source_id, "acid-aceticacid.xyz"), heaviest_z, sink], name="from-xyz")
    )
    assert alice.run(name, None) == 16.0  # oxygen, doubled
    trace = alice.run(name, None, trace=True)
    assert trace.steps[0].name == "source:file" and trace.steps[0].type == "file"
    with pytest.raises(ValidationError, match="no Intake reader"):
        alice.pipeline([DatasetFile(sub.source_id, "notes.bin"), sink], name="unreadable")
