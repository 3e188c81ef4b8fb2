"""Pipelines benchmark (issue 21): a pipeline against its servables called one by one.

Pipeline half:

a. Three python servables (``expand`` (16, 8) -> (16, 512), ``mix`` -> (16, 512),
   ``pool_rows`` -> (16,)) published as servables and chained into a pipeline.  Its run time
   (``hub.run(pipeline, xs)``) against the three servables called one after another from
   the client (``hub.run(s1, ...)`` then ``s2`` then ``s3``: the intermediates travel to the
   client and back), at batch 1 and batch 100 (a list of 100 inputs, ``batch=True``), on an
   embedded hub and on the remote client of a loopback ``matterhub serve`` (goal: pipeline
   / client chain <= 0.8 at batch 100).
b. The per-step orchestration overhead: a pipeline of three tiny steps run with
   ``trace=True``: (the hub's time for the run - the sum of the steps' own run times in
   their workers) / 3, minus the same figure for one plain servable run (what any run
   costs besides its servable), in ms (goal: <= 1 ms).

Each figure is the median of ``--rounds`` timed runs after a warm-up, the two contenders
alternating.  The environments half (issue 21, item 2) adds its own section beside
:func:`pipeline_section`.

Usage: python benchmarks/bench_pipelines.py [--quick]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hub import Hub  # noqa: E402
from hub.api import HubAPI  # noqa: E402
from hub.service.testing import free_port  # noqa: E402

BIN = Path(sys.executable).parent
SEED = 21


def expand(x: Annotated[np.ndarray, (16, 8)]) -> Annotated[np.ndarray, (16, 512)]:
    """Random features of each row."""
    w = np.random.default_rng(0).normal(size=(8, 512))
    return np.tanh(x @ w)


def mix(x: Annotated[np.ndarray, (16, 512)]) -> Annotated[np.ndarray, (16, 512)]:
    """A fixed mixing of the features."""
    return np.roll(x, 1, axis=1) * 0.5 + x * 0.5


def pool_rows(x: Annotated[np.ndarray, (16, 512)]) -> Annotated[np.ndarray, (16,)]:
    """One number per row."""
    return x.mean(axis=1)


def tiny_a(x: float) -> float:
    return x + 1.0


def tiny_b(x: float) -> float:
    return x * 2.0


def tiny_c(x: float) -> float:
    return x - 3.0


# -- a loopback service ------------------------------------------------------------------------


def wait_http(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def start_service(home: Path, tmp: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """``matterhub serve`` on a free loopback port (uncontained: every publisher is this script)."""
    Hub(home, progress=False).close()
    port = free_port()
    env = {**os.environ, "MATTERHUB_SERVICE_APIS": "none", "MATTERHUB_SERVICE_RATE_LIMIT": "0"}
    cmd = [str(BIN / "matterhub"), "--hub", str(home), "-q", "serve", "--port", str(port)]
    cmd += ["--token-file", str(tmp / "token"), "--log-level", "warning", "--no-servable-containment"]
    proc = subprocess.Popen(
        cmd, stdout=(tmp / "serve.log").open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/api/info")
    return proc, url, (tmp / "token").read_text().strip()


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- measuring ---------------------------------------------------------------------------------


def alternate(a: Callable[[], Any], b: Callable[[], Any], rounds: int) -> tuple[float, float]:
    """Median ms of ``a`` and of ``b``, run in turn ``rounds`` times after one warm-up each."""
    a(), b()
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(rounds):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ta), statistics.median(tb)


def publish_chain(hub: HubAPI) -> tuple[list[str], str, list[str], str]:
    """The three servables and their pipeline, and three tiny ones and theirs."""
    heavy = [hub.publish_servable(hub.describe(fn)) for fn in (expand, mix, pool_rows)]
    pipe = hub.publish_servable(hub.pipeline(heavy, name="bench-chain"))
    tiny = [hub.publish_servable(hub.describe(fn)) for fn in (tiny_a, tiny_b, tiny_c)]
    tiny_pipe = hub.publish_servable(hub.pipeline(tiny, name="bench-tiny"))
    return heavy, pipe, tiny, tiny_pipe


def chain_vs_pipeline(hub: HubAPI, steps: list[str], pipe: str, batch: int, rounds: int) -> dict[str, float]:
    rng = np.random.default_rng(SEED)
    xs = [rng.normal(size=(16, 8)) for _ in range(batch)]
    arg: Any = xs if batch > 1 else xs[0]
    flag = batch > 1

    def client_chain() -> Any:
        value = arg
        for step in steps:
            value = hub.run(step, value, batch=flag)
        return value

    def pipeline() -> Any:
        return hub.run(pipe, arg, batch=flag)

    np.testing.assert_allclose(np.asarray(client_chain()), np.asarray(pipeline()))
    t_pipe, t_chain = alternate(pipeline, client_chain, rounds)
    return {"pipeline_ms": t_pipe, "client_chain_ms": t_chain, "ratio": t_pipe / t_chain}


def overhead_per_step(hub: HubAPI, tiny: list[str], tiny_pipe: str, rounds: int) -> dict[str, float]:
    """Per step: (hub time - Σ worker run times) / steps, less a plain run's own overhead."""
    pipe_over: list[float] = []
    plain_over: list[float] = []
    for _ in range(3):  # warm every worker
        hub.run(tiny_pipe, 1.0)
        hub.run(tiny[0], 1.0)
    for _ in range(rounds * 5):
        tr = hub.run(tiny_pipe, 1.0, trace=True)
        pipe_over.append((tr.total_ms - sum(s.run_ms or 0.0 for s in tr.steps)) / len(tr.steps))
        one = hub.run(tiny[0], 1.0, trace=True)
        plain_over.append(one.total_ms - (one.steps[0].run_ms or 0.0))
    per_step, plain = statistics.median(pipe_over), statistics.median(plain_over)
    return {
        "pipeline_per_step_ms": per_step,
        "plain_run_ms": plain,
        "orchestration_per_step_ms": per_step - plain,
    }


def pipeline_section(tmp: Path, rounds: int) -> dict[str, Any]:
    """The pipeline half: embedded and remote, batch 1 and 100, and the per-step overhead."""
    figures: dict[str, Any] = {}
    embedded = Hub(tmp / "embedded", user="alice", progress=False)
    proc, url, token = start_service(tmp / "served", tmp)
    remote = Hub(url, token=token, progress=False)
    try:
        for kind, hub in (("embedded", embedded), ("remote", remote)):
            heavy, pipe, tiny, tiny_pipe = publish_chain(hub)
            for batch in (1, 100):
                figures[f"{kind}_batch{batch}"] = chain_vs_pipeline(hub, heavy, pipe, batch, rounds)
            figures[f"{kind}_overhead"] = overhead_per_step(hub, tiny, tiny_pipe, rounds)
    finally:
        remote.close()
        embedded.close()
        stop(proc)
    return figures


def print_pipeline_table(figures: dict[str, Any]) -> None:
    print(f"{'hub':9} {'batch':>5} {'pipeline ms':>12} {'client chain ms':>16} {'ratio':>6}")
    for kind in ("embedded", "remote"):
        for batch in (1, 100):
            f = figures[f"{kind}_batch{batch}"]
            print(
                f"{kind:9} {batch:5d} {f['pipeline_ms']:12.1f} {f['client_chain_ms']:16.1f} {f['ratio']:6.2f}"
            )
    print(f"\n{'hub':9} {'pipeline/step ms':>17} {'plain run ms':>13} {'orchestration/step ms':>22}")
    for kind in ("embedded", "remote"):
        o = figures[f"{kind}_overhead"]
        print(
            f"{kind:9} {o['pipeline_per_step_ms']:17.2f} {o['plain_run_ms']:13.2f} "
            f"{o['orchestration_per_step_ms']:22.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (5 if args.quick else 15)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipelines-"))
    try:
        figures = {"pipelines": pipeline_section(tmp, rounds)}
        print_pipeline_table(figures["pipelines"])
        print(json.dumps(figures))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
