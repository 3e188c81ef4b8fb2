"""Publish -> discover -> run round trips through the worker pool; validation before
anything runs; batches; memoization; asynchronous tasks; access; versions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression

from hub.exceptions import (
    AccessDeniedError,
    InputValidationError,
    NotFoundError,
    ValidationError,
)
from hub.servables.parts import ServableParts
from hub.servables.pool import WorkerPool
from hub.servables.runs import ServableDeprecatedWarning

PartsFactory = Callable[..., ServableParts]

X, Y = load_iris(return_X_y=True)
CLF = LogisticRegression(max_iter=500).fit(X, Y)
REG = RandomForestRegressor(n_estimators=5, random_state=0).fit(X[:, :3], X[:, 3])


def shout(text: str, times: int = 1) -> str:
    """Upper-case ``text``, repeated; prints what it does."""
    print(f"shouting {text!r}")
    return " ".join([text.upper()] * times)


def kinetic(mass: float, velocity: float) -> float:
    return 0.5 * mass * velocity**2


@pytest.fixture(scope="module")
def published(alice: ServableParts) -> dict[str, str]:
    return {
        "iris": alice.registry.publish(
            alice.registry.describe(
                CLF, name="iris", title="Iris classifier", domains=["biology"], cache=False
            )
        ),
        "reg": alice.registry.publish(
            alice.registry.describe(REG, name="petal-width", domains=["materials", "biology"])
        ),
        "shout": alice.registry.publish(alice.registry.describe(shout, domains=["text"])),
        "kinetic": alice.registry.publish(alice.registry.describe(kinetic, domains=["physics"])),
    }


def test_round_trip_outputs_equal_the_model(alice: ServableParts, published: dict[str, str]) -> None:
    assert published["iris"] == "alice/iris"
    np.testing.assert_array_equal(alice.run("alice/iris", X[:7]), CLF.predict(X[:7]))
    np.testing.assert_allclose(alice.run("petal-width", X[:9, :3]), REG.predict(X[:9, :3]))
    assert alice.run("alice/shout", "hi", {"times": 2}) == "HI HI"
    assert alice.run("alice/kinetic", {"mass": 2.0, "velocity": 3.0}) == kinetic(2.0, 3.0)
    # lists become the array the model expects
    np.testing.assert_array_equal(alice.run("alice/iris", X[:2].tolist()), CLF.predict(X[:2]))


def test_discover_with_the_data_query_language(alice: ServableParts, published: dict[str, str]) -> None:
    res = alice.registry.servables("servable.type:sklearn AND dlhub.domains:materials")
    assert [h.id for h in res.hits] == ["alice/petal-width"]
    assert res.hits[0].kind == "servable"
    assert res.hits[0].document["dlhub"]["version"] == 1
    assert alice.registry.servables("dlhub.domains:biology").total == 2
    assert {h.id for h in alice.registry.servables("servable.type:python").hits} == {
        "alice/shout",
        "alice/kinetic",
    }
    # servables are not datasets or records
    assert (
        alice.registry.index.search(
            "dlhub.domains:biology", alice.principal, kinds=["dataset", "record"]
        ).total
        == 0
    )


def test_inputs_are_validated_before_anything_runs(
    alice: ServableParts, published: dict[str, str], pool: WorkerPool
) -> None:
    before = sum(w.runs for w in pool._workers if w is not None)
    with pytest.raises(InputValidationError) as err:
        alice.run("alice/iris", X[:5, :3])
    assert "expected an ndarray of shape (None, 4)" in str(err.value)
    assert "got an ndarray of shape (5, 3) with float64 items" in str(err.value)
    with pytest.raises(InputValidationError, match="input 'velocity': expected a float; got a string 'fast'"):
        alice.run("alice/kinetic", {"mass": 1.0, "velocity": "fast"})
    with pytest.raises(InputValidationError, match="missing 'velocity'"):
        alice.run("alice/kinetic", {"mass": 1.0})
    with pytest.raises(InputValidationError, match=r"unknown parameter.*'loud'.*takes: times"):
        alice.run("alice/shout", "hi", {"loud": True})
    with pytest.raises(InputValidationError, match=r"expected an integer; got a float 2.5"):
        alice.run("alice/shout", "hi", {"times": 2.5})
    after = sum(w.runs for w in pool._workers if w is not None)
    assert after == before  # nothing reached a worker


def test_a_list_of_inputs_runs_as_one_batch(
    alice: ServableParts, published: dict[str, str], pool: WorkerPool
) -> None:
    before = sum(w.runs for w in pool._workers if w is not None)
    out = alice.run("alice/iris", [X[:3], X[3:4], X[10:15]])
    assert sum(w.runs for w in pool._workers if w is not None) == before + 1
    assert [o.shape for o in out] == [(3,), (1,), (5,)]
    np.testing.assert_array_equal(np.concatenate(out), CLF.predict(np.r_[X[:3], X[3:4], X[10:15]]))
    assert alice.run("alice/shout", ["a", "b"]) == ["A", "B"]
    with pytest.raises(InputValidationError, match=r"nor is it a list of valid inputs \(input 'input\[1\]'"):
        alice.run("alice/shout", ["a", 3])


def test_memoization_by_version_and_input_hash(
    alice: ServableParts, published: dict[str, str], pool: WorkerPool
) -> None:
    first = alice.run("alice/petal-width", X[:4, :3], cache=True)
    runs = sum(w.runs for w in pool._workers if w is not None)
    again = alice.run("alice/petal-width", X[:4, :3].copy(), cache=True)
    assert sum(w.runs for w in pool._workers if w is not None) == runs  # served from the cache
    np.testing.assert_array_equal(first, again)
    alice.run("alice/petal-width", X[:5, :3], cache=True)  # other inputs run
    assert sum(w.runs for w in pool._workers if w is not None) == runs + 1


def test_async_task_reports_status_result_timings_and_output(
    alice: ServableParts, published: dict[str, str]
) -> None:
    task = alice.run("alice/shout", "hello", {"times": 3}, asynchronous=True)
    assert task.status in ("pending", "running", "completed")
    done = alice.tasks.task(task.id).wait(30)
    assert done.status == "completed"
    assert done.result == "HELLO HELLO HELLO"
    assert "shouting 'hello'" in done.stdout
    t = done.timings
    assert {"queued_at", "started_at", "finished_at", "queue_ms", "run_ms", "total_ms"} <= set(t)
    assert t["run_ms"] >= 0 and t["total_ms"] >= t["run_ms"] * 0.5
    batch = alice.run("alice/iris", [X[:2], X[50:52]], asynchronous=True).wait(30)
    assert batch.batch and [list(r) for r in batch.result] == [[0, 0], [1, 1]]
    assert batch.to_dict()["result"] == [[0, 0], [1, 1]]


def test_async_task_of_another_user_is_not_found(
    alice: ServableParts, parts_as: PartsFactory, published: dict[str, str]
) -> None:
    task = alice.run("alice/kinetic", {"mass": 1.0, "velocity": 1.0}, asynchronous=True)
    with pytest.raises(NotFoundError):
        parts_as("mallory").tasks.task(task.id)
    assert task.outputs(30) == 0.5


def test_metadata_visible_but_running_forbidden(alice: ServableParts, parts_as: PartsFactory) -> None:
    alice.registry.publish(
        alice.registry.describe(
            CLF, name="lab-only", visible_to=["public"], runnable_by=["group:lab"], domains=["x"]
        )
    )
    alice.registry.publish(alice.registry.describe(CLF, name="secret", visible_to=["group:lab"]))
    bob = parts_as("bob")
    assert bob.registry.servable("alice/lab-only").version == 1
    assert bob.registry.servables("dlhub.domains:x").total == 1
    with pytest.raises(
        AccessDeniedError, match="bob may see alice/lab-only@1 but not run it; it runs for group:lab"
    ):
        bob.run("alice/lab-only", X[:1])
    with pytest.raises(NotFoundError):
        bob.registry.servable("alice/secret")
    assert bob.registry.servables("secret").total == 0
    carol = parts_as("carol", groups=("lab",))
    np.testing.assert_array_equal(carol.run("alice/lab-only", X[:1]), CLF.predict(X[:1]))
    np.testing.assert_array_equal(carol.run("alice/secret", X[:1]), CLF.predict(X[:1]))


def test_versions_deprecation_and_deletion(alice: ServableParts, parts_as: PartsFactory) -> None:
    alice.registry.publish(alice.registry.describe(shout, name="echo"))
    alice.registry.publish(alice.registry.describe(kinetic, name="echo", domains=["v2"]))
    info = alice.registry.servable("alice/echo")
    assert (info.version, info.versions, info.type) == (2, [1, 2], "python")
    assert alice.run("alice/echo@1", "x") == "X"
    assert alice.run("alice/echo", {"mass": 2.0, "velocity": 1.0}) == 1.0
    bob = parts_as("bob")
    with pytest.raises(AccessDeniedError, match="only the owner"):
        bob.registry.deprecate("alice/echo@2")
    with pytest.raises(ValidationError, match="say which version"):
        alice.registry.deprecate("alice/echo")
    alice.registry.deprecate("alice/echo@2")
    assert alice.registry.servable("alice/echo").version == 1  # the latest live version
    assert alice.registry.servables("dlhub.name:echo").hits[0].document["dlhub"]["version"] == 1
    with pytest.warns(ServableDeprecatedWarning):
        assert alice.run("alice/echo@2", {"mass": 2.0, "velocity": 1.0}) == 1.0
    alice.registry.delete("alice/echo@1")
    with pytest.raises(NotFoundError):
        alice.run("alice/echo@1", "x")
    assert alice.registry.servable("alice/echo").version == 2  # only the deprecated one is left
    alice.registry.delete("alice/echo", version=2)
    with pytest.raises(NotFoundError):
        alice.registry.servable("alice/echo")
    assert alice.registry.servables("dlhub.name:echo").total == 0
