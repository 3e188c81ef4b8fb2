"""Pipelines through both hubs (embedded and the remote client of a live service): publish,
discover, run with a trace (only the last output crosses HTTP), refusals at publish (the
upload path checks the chain again), access, tasks."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pytest

from hub.exceptions import AccessDeniedError, ServableRunError, ValidationError
from hub.pipelines import RunTrace
from hub.servables import codec


def widen(x: Annotated[np.ndarray, (None, 2)]) -> Annotated[np.ndarray, (None, 3)]:
    return np.concatenate([x, x[:, :1] ** 2], axis=1)


def squash(x: np.ndarray) -> np.ndarray:
    return np.tanh(np.asarray(x))


def norm(x: Annotated[np.ndarray, (None, 3)]) -> float:
    return float(np.linalg.norm(x))


def narrow(x: Annotated[np.ndarray, (None, 2)]) -> float:
    return float(x.sum())


def fail(x: np.ndarray) -> np.ndarray:
    raise RuntimeError("the middle step fails")


X = np.random.default_rng(3).normal(size=(4, 2))


@pytest.fixture(scope="module")
def published(service: Any) -> dict[str, str]:
    alice = service.open("remote", "alice")
    names = {
        fn.__name__: alice.publish_servable(alice.describe(fn, name=f"pipes-{fn.__name__}"))
        for fn in (widen, norm, narrow, fail)
    }
    names["pipeline"] = alice.publish_servable(
        alice.pipeline([names["widen"], squash, names["norm"]], name="pipes-chain")
    )
    return names


def test_runs_and_traces_the_same_through_both(as_user: Any, published: dict[str, str]) -> None:
    hub = as_user("bob")
    want = norm(squash(widen(X)))
    assert hub.run(published["pipeline"], X) == pytest.approx(want)
    trace = hub.run(published["pipeline"], X, trace=True)
    assert isinstance(trace, RunTrace) and trace.output == pytest.approx(want)
    assert [s.name for s in trace.steps] == ["alice/pipes-widen@1", "adapter:squash", "alice/pipes-norm@1"]
    assert trace.steps[0].input_sha256 == codec.input_hash(X)
    assert trace.steps[1].output_sha256 == codec.input_hash(squash(widen(X)))
    assert hub.run(published["pipeline"], [X, X], batch=True) == pytest.approx([want, want])
    task = hub.run(published["pipeline"], X, asynchronous=True)
    assert task.outputs(timeout=120) == pytest.approx(want)
    assert published["pipeline"] in {h.id for h in hub.servables("servable.type:pipeline").hits}


def test_misfits_are_refused_by_the_client_and_by_the_service(
    service: Any, kind: str, published: dict[str, str]
) -> None:
    hub = service.open(kind, "alice")
    with pytest.raises(
        ValidationError,
        match=r"step 1 \(alice/pipes-widen@1\) gives .* step 2 \(alice/pipes-narrow@1\) expects",
    ):
        hub.pipeline([published["widen"], published["narrow"]], name="pipes-misfit")
    desc = hub.pipeline([published["widen"], published["norm"]], name="pipes-misfit")
    doc = desc.to_dict()
    doc["pipeline"]["steps"][1]["ref"] = published["narrow"]
    desc.metadata = type(desc.metadata).model_validate(doc)
    with pytest.raises(ValidationError, match=r"field 'input'"):
        hub.publish_servable(desc)


def test_a_failing_step_and_a_step_the_caller_may_not_run(
    service: Any, kind: str, published: dict[str, str]
) -> None:
    alice, bob = service.open(kind, "alice"), service.open(kind, "bob")
    failing = alice.publish_servable(
        alice.pipeline(
            [published["widen"], published["fail"], published["norm"]], name=f"pipes-failing-{kind}"
        )
    )
    with pytest.raises(ServableRunError, match=r"step 2 \(alice/pipes-fail@1\): .*the middle step fails"):
        bob.run(failing, X)
    mine = alice.publish_servable(alice.describe(widen, name=f"pipes-mine-{kind}", runnable_by=["alice"]))
    guarded = alice.publish_servable(alice.pipeline([mine, published["norm"]], name=f"pipes-guarded-{kind}"))
    assert alice.run(guarded, X) == pytest.approx(norm(widen(X)))
    with pytest.raises(AccessDeniedError, match=rf"step 1 \(alice/pipes-mine-{kind}@1\)"):
        bob.run(guarded, X)
