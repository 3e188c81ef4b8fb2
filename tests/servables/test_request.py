"""Run results and tasks as typed values: JSON round trips, statuses, and the errors they raise."""

from __future__ import annotations

import datetime as _dt
import json

import numpy as np
import pytest

from hub.exceptions import ServableCrashedError, ServableMemoryError, ServableRunError, ServableTimeoutError
from hub.servables import codec
from hub.servables.request import RunResult, RunStatus, error_from
from hub.servables.tasks import Task, TaskStatus


def _through_json(body: dict[str, object]) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(json.dumps(body))
    return decoded


def test_a_run_result_round_trips_through_json() -> None:
    ok = RunResult(
        RunStatus.OK,
        {"gap": np.arange(6, dtype=np.float32).reshape(2, 3), "label": "Si", "n": 3},
        stdout="predicting\n",
        load_ms=12.5,
        run_ms=0.75,
        pid=4242,
    )
    back = RunResult.from_json(_through_json(ok.to_json()))
    assert back.status is RunStatus.OK and back.ok
    np.testing.assert_array_equal(back.value["gap"], ok.value["gap"])
    assert back.value["gap"].dtype == np.float32  # exact: base64 with its dtype
    assert (back.value["label"], back.value["n"]) == ("Si", 3)
    assert (back.stdout, back.load_ms, back.run_ms, back.pid, back.cached) == (
        "predicting\n",
        12.5,
        0.75,
        4242,
        False,
    )

    failed = RunResult(
        RunStatus.TIMEOUT, message="the run took longer than its timeout of 2 s", run_ms=2000.0, stderr="x"
    )
    assert RunResult.from_json(_through_json(failed.to_json())) == failed
    cached = RunResult(RunStatus.OK, [1, 2], cached=True)
    assert RunResult.from_json(_through_json(cached.to_json())) == cached


def test_the_rest_reply_of_a_synchronous_run_is_a_result() -> None:
    """``POST /servables/{owner}/{name}/run`` answers ``{"output": ...}`` (the wire format)."""
    result = RunResult.from_json(_through_json({"output": codec.to_json(np.ones(2))}))
    assert result.ok
    np.testing.assert_array_equal(result.outputs("a/b@1"), np.ones(2))
    assert RunResult.from_json({"output": None}).outputs("a/b@1") is None


@pytest.mark.parametrize(
    ("status", "error", "sentence"),
    [
        (RunStatus.ERROR, ServableRunError, "a/b@1 raised KeyError: 'x'"),
        (RunStatus.MEMORY, ServableMemoryError, "a/b@1 ran out of memory: too big"),
        (RunStatus.TIMEOUT, ServableTimeoutError, "a/b@1 timed out: too slow"),
        (RunStatus.CRASH, ServableCrashedError, "a/b@1 crashed: gone"),
    ],
)
def test_a_failed_result_raises_its_error(
    status: RunStatus, error: type[ServableRunError], sentence: str
) -> None:
    message = {"error": "'x'", "memory": "too big", "timeout": "too slow", "crash": "gone"}[status.value]
    result = RunResult(status, message=message, exc_type="KeyError", traceback="Traceback ...", stdout="out")
    record = result.error_record("a/b@1")
    assert record == {
        "kind": status.value,
        "exc_type": "KeyError",
        "message": sentence,
        "traceback": "Traceback ...",
    }
    with pytest.raises(error) as raised:
        result.outputs("a/b@1")
    assert type(raised.value) is error and raised.value.kind == status.value and raised.value.stdout == "out"
    assert type(error_from(record, task_id="t1")) is error


def test_a_missing_module_names_what_to_install() -> None:
    result = RunResult(RunStatus.ERROR, message="No module named 'sklearn'", exc_type="ModuleNotFoundError")
    assert "(the servable needs it: pip install " in result.error_record("a/b@1")["message"]


def test_a_task_round_trips_through_json() -> None:
    when = _dt.datetime(2026, 12, 7, 10, 30, tzinfo=_dt.UTC)
    task = Task(
        id="t1",
        servable="alice/scale",
        version=2,
        status=TaskStatus.COMPLETED,
        result=[np.arange(3), 2.5],
        timings={"queue_ms": 1.0, "run_ms": 2.0},
        stdout="scaling\n",
        batch=True,
        created_at=when,
        updated_at=when,
    )
    back = Task.from_json(_through_json(task.to_json()))
    assert back.status is TaskStatus.COMPLETED and back.done
    np.testing.assert_array_equal(back.result[0], np.arange(3))
    assert back.result[1] == 2.5
    assert (back.id, back.servable, back.version, back.batch, back.timings, back.stdout) == (
        "t1",
        "alice/scale",
        2,
        True,
        {"queue_ms": 1.0, "run_ms": 2.0},
        "scaling\n",
    )
    assert (back.created_at, back.updated_at) == (when, when)
    assert task.to_dict()["result"] == [[0, 1, 2], 2.5]  # --json: arrays as lists
    failed = Task.from_json(
        {
            "id": "t2",
            "servable": "a/b",
            "version": 1,
            "status": "failed",
            "error": {"kind": "crash", "message": "gone"},
        }
    )
    assert failed.status is TaskStatus.FAILED and failed.status == "failed"
    with pytest.raises(ServableCrashedError, match="gone"):
        failed.outputs()
