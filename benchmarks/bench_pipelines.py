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
alternating.

Environments half (servables in environments of their own, issue 21 item 2):

c. **Build**: the first publish of a version pinning ``six==1.15.0`` (the hub has 1.17.0):
   the publish call (it resolves with ``uv pip compile``, synchronously) and the background
   build (``uv venv`` + ``uv pip install`` from the wheelhouse, offline, and the import
   check), until the environment is ready.
d. **Reuse**: a second version with the same pins: the publish call, and whether the
   environment was built again (its ``environment.json`` unchanged).
e. **Runs**: the same small servable (it returns ``six.__version__``) in its own environment
   and in the hub's, batch 1, through ``hub.run``, alternating after a warm-up; medians and
   the ratio (goal: at most 1.2).  The first run in the environment (its worker starts) is
   shown apart.  Packages come from the test wheelhouse (``$MATTERHUB_WHEELHOUSE``, else
   ``.cache/wheelhouse``, which ``make test`` fills): nothing is downloaded.

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
from hub.servables.environments.layout import wait_ready  # noqa: E402
from hub.servables.environments.store import Environments, EnvironmentSettings  # noqa: E402
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


# -- environments half ----------------------------------------------------------------------------


def six_version(x: int) -> str:
    """The version of six this worker imports."""
    import six

    return str(six.__version__)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def environment_section(tmp: Path, reps: int) -> dict[str, Any]:
    """Build, reuse and run figures of a servable in its own environment (see the module's text)."""
    wheelhouse = Path(os.environ.get("MATTERHUB_WHEELHOUSE") or REPO / ".cache" / "wheelhouse")
    if not list(wheelhouse.glob("six-1.15.0-*.whl")):
        sys.exit(f"the wheelhouse {wheelhouse} lacks six 1.15.0: run `make test` (its wheelhouse step) first")
    os.environ["MATTERHUB_WHEELHOUSE"] = str(wheelhouse)
    home = tmp / "env-hub"
    hub = Hub(home, user="alice", progress=False)
    envs = Environments(EnvironmentSettings.for_hub(home))
    try:
        t0 = time.perf_counter()
        own = hub.publish_servable(hub.describe(six_version, name="own", requirements=["six==1.15.0"]))
        publish_s = time.perf_counter() - t0
        key = hub.servable(own).document["dlhub"]["environment"]["key"]
        wait_ready(envs.path(key), 600)
        ready_s = time.perf_counter() - t0
        record = envs.path(key) / "environment.json"
        built = record.read_bytes()
        size = json.loads(built)["size"]

        t0 = time.perf_counter()
        again = hub.publish_servable(hub.describe(six_version, name="again", requirements=["six==1.15.0"]))
        reuse_publish_s = time.perf_counter() - t0
        reused = hub.servable(again).document["dlhub"]["environment"]["key"] == key
        rebuilt = record.read_bytes() != built or len([e for e in envs.listing() if e.state == "built"]) != 1

        plain = hub.publish_servable(hub.describe(six_version, name="plain"))
        t0 = time.perf_counter()
        assert hub.run(own, 1) == "1.15.0"
        first_run_s = time.perf_counter() - t0
        assert hub.run(plain, 1) == "1.17.0"
        for _ in range(10):  # warm-up
            hub.run(own, 1)
            hub.run(plain, 1)
        own_t, plain_t = [], []
        for _ in range(reps):
            t0 = time.perf_counter()
            hub.run(own, 1)
            own_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            hub.run(plain, 1)
            plain_t.append(time.perf_counter() - t0)
    finally:
        hub.close()
    own_p50, plain_p50 = statistics.median(own_t), statistics.median(plain_t)
    return {
        "publish_first_ms": _ms(publish_s),
        "build_ready_ms": _ms(ready_s),
        "environment_bytes": size,
        "publish_reuse_ms": _ms(reuse_publish_s),
        "reused_same_key": reused,
        "rebuilt_on_reuse": rebuilt,
        "first_run_in_environment_ms": _ms(first_run_s),
        "run_own_env_p50_ms": _ms(own_p50),
        "run_hub_env_p50_ms": _ms(plain_p50),
        "run_ratio": round(own_p50 / plain_p50, 3),
        "runs": reps,
    }


def print_environment_table(f: dict[str, Any]) -> None:
    """The environments half as a table."""
    rows = [
        ("c. first publish (resolve, synchronous)", f"{f['publish_first_ms']:.0f} ms"),
        ("   environment ready (publish + background build)", f"{f['build_ready_ms']:.0f} ms"),
        ("   environment size", f"{f['environment_bytes'] / 1000:.0f} kB"),
        (
            "d. second publish, same pins (reuse)",
            f"{f['publish_reuse_ms']:.0f} ms, {'rebuilt' if f['rebuilt_on_reuse'] else 'not rebuilt'}",
        ),
        ("e. first run in the environment (worker starts)", f"{f['first_run_in_environment_ms']:.0f} ms"),
        ("   run p50, own environment", f"{f['run_own_env_p50_ms']:.2f} ms"),
        ("   run p50, hub's environment", f"{f['run_hub_env_p50_ms']:.2f} ms"),
        ("   ratio own / hub (goal <= 1.2)", f"{f['run_ratio']:.3f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'servable environments':<{width}}  value")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


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
        figures["environments"] = environment_section(tmp, 40 if args.quick else 300)
        print_environment_table(figures["environments"])
        print(json.dumps(figures))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
