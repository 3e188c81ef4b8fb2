"""Servables in environments of their own: build, reuse, and the cost of a run there.

a. **Build** (first publish of a version pinning ``six==1.15.0``, where the hub has 1.17.0):
   the publish call (it resolves with ``uv pip compile``, synchronously) and the background
   build (``uv venv`` + ``uv pip install`` from the wheelhouse, offline, and the check),
   until the environment is ready.
b. **Reuse**: a second version with the same pins: the publish call, and builds made (0).
c. **Runs**: the same small Python servable (it returns ``six.__version__``) in its own
   environment and in the hub's, batch 1, through ``hub.run`` (schema, access, the worker
   pool), alternating A B A B after a warm-up; medians, and the ratio (goal: at most 1.2).
   The first run in the environment (its worker starts) is shown apart.

Packages come from the test wheelhouse (``$MATTERHUB_WHEELHOUSE``, else ``.cache/wheelhouse``,
which ``make test`` fills): nothing is downloaded.

Usage: python benchmarks/bench_environments.py [--quick]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hub.hubs.embedded import EmbeddedHub  # noqa: E402
from hub.servables.environments.layout import wait_ready  # noqa: E402
from hub.servables.executors import LocalExecutor  # noqa: E402
from hub.servables.pool import WorkerPool  # noqa: E402


def six_version(x: int) -> str:
    """The version of six this worker imports."""
    import six

    return str(six.__version__)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args()
    reps = 40 if args.quick else 300
    wheelhouse = Path(os.environ.get("MATTERHUB_WHEELHOUSE") or REPO / ".cache" / "wheelhouse")
    if not list(wheelhouse.glob("six-1.15.0-*.whl")):
        sys.exit(f"the wheelhouse {wheelhouse} lacks six 1.15.0: run `make test` (its wheelhouse step) first")
    os.environ["MATTERHUB_WHEELHOUSE"] = str(wheelhouse)
    with tempfile.TemporaryDirectory(prefix="bench-env-") as tmp:
        pool = WorkerPool(2)
        hub = EmbeddedHub(Path(tmp) / "hub", user="alice", progress=False, executor=LocalExecutor(pool))
        envs = hub._servables.environments
        try:
            t0 = time.perf_counter()
            own = hub.publish_servable(hub.describe(six_version, name="own", requirements=["six==1.15.0"]))
            publish_s = time.perf_counter() - t0
            key = hub.servable(own).document["dlhub"]["environment"]["key"]
            wait_ready(envs.path(key), 600)
            ready_s = time.perf_counter() - t0
            size = json.loads((envs.path(key) / "environment.json").read_text())["size"]

            builds = envs.builds
            t0 = time.perf_counter()
            again = hub.publish_servable(
                hub.describe(six_version, name="again", requirements=["six==1.15.0"])
            )
            reuse_publish_s = time.perf_counter() - t0
            reused = hub.servable(again).document["dlhub"]["environment"]["key"] == key
            extra_builds = envs.builds - builds

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
            pool.close()
    own_p50, plain_p50 = statistics.median(own_t), statistics.median(plain_t)
    figures = {
        "publish_first_ms": _ms(publish_s),
        "build_ready_ms": _ms(ready_s),
        "environment_bytes": size,
        "publish_reuse_ms": _ms(reuse_publish_s),
        "reused_same_key": reused,
        "builds_on_reuse": extra_builds,
        "first_run_in_environment_ms": _ms(first_run_s),
        "run_own_env_p50_ms": _ms(own_p50),
        "run_hub_env_p50_ms": _ms(plain_p50),
        "run_ratio": round(own_p50 / plain_p50, 3),
        "runs": reps,
    }
    rows = [
        ("first publish (resolve, synchronous)", f"{figures['publish_first_ms']:.0f} ms"),
        ("environment ready (publish + background build)", f"{figures['build_ready_ms']:.0f} ms"),
        ("environment size", f"{size / 1000:.0f} kB"),
        (
            "second publish, same pins (reuse)",
            f"{figures['publish_reuse_ms']:.0f} ms, {extra_builds} build(s)",
        ),
        ("first run in the environment (worker starts)", f"{figures['first_run_in_environment_ms']:.0f} ms"),
        ("run p50, own environment", f"{figures['run_own_env_p50_ms']:.2f} ms"),
        ("run p50, hub's environment", f"{figures['run_hub_env_p50_ms']:.2f} ms"),
        ("ratio own / hub (goal <= 1.2)", f"{figures['run_ratio']:.3f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'servable environments':<{width}}  value")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
