"""Hub service benchmark (see ../shared/design/BENCHMARKS.md).

Real servers on loopback, each in its own process:

a. ``matterhub serve`` over a hub whose search index holds N synthetic MDF records
   (compositions drawn from real element frequencies; ``bench_search.generate``, fixed
   seed).  16 client threads, each with its own keep-alive HTTP connection, send faceted
   searches (a random element, the elements facet, 10 hits) for a fixed time:
   requests/s, p50 and p99 latency.
b. A small scikit-learn model (logistic regression on the iris measurements, one row)
   published as a servable through the remote client and run over REST, side by side
   with the same model saved by MLflow and served by ``mlflow models serve
   --env-manager local`` (the peer).  One client, keep-alive, A B A B ... blocks after a
   warm-up; p50 per block, median and min-max spread over blocks.
c. The same run latency while (a)'s search load is running: searches and runs must
   not block each other.
d. The cost of containing servables (issue 26): (b)'s model also published on a second
   ``matterhub serve --no-servable-containment`` over a copy of the hub, and run in the
   same A B A B blocks: contained / uncontained run p50.

Usage: python benchmarks/bench_service.py [--quick]
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_search import FACET_EL, corpus_root, generate  # noqa: E402

from hub import Hub  # noqa: E402
from hub.index.engine import SearchIndex  # noqa: E402
from hub.service.testing import free_port  # noqa: E402

BIN = Path(sys.executable).parent
SEED = 7


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


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


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def build_hub(home: Path, n: int) -> dict[str, Any]:
    Hub(home, progress=False).close()
    docs, info = generate(n, corpus_root())
    t0 = time.perf_counter()
    count = SearchIndex(home / "index").replace_sources([], docs)
    return {"records": count, "index_build_s": round(time.perf_counter() - t0, 1), **info}


def start_hub(home: Path, port: int, token_file: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MATTERHUB_SERVICE_APIS": "none", "MATTERHUB_SERVICE_RATE_LIMIT": "0"}
    cmd = [str(BIN / "matterhub"), "--hub", str(home), "-q", "serve", "--port", str(port)]
    cmd += ["--token-file", str(token_file), "--log-level", "warning", *args]
    proc = subprocess.Popen(
        cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    wait_http(f"http://127.0.0.1:{port}/api/info")
    return proc


def start_mlflow(model_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [str(BIN / "mlflow"), "models", "serve", "-m", str(model_dir), "-h", "127.0.0.1"]
    cmd += ["-p", str(port), "--env-manager", "local"]
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"file://{model_dir.parent / 'mlruns'}",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # its uvicorn is in this venv
    }
    proc = subprocess.Popen(
        cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    wait_http(f"http://127.0.0.1:{port}/ping", timeout=180)
    return proc


def iris_model() -> tuple[Any, list[float]]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(x, y)
    return model, [float(v) for v in x[0]]


def latency_blocks(
    calls: dict[str, Any], rounds: int, per_block: int, warmup: int = 30
) -> dict[str, list[float]]:
    """p50 (ms) of each block, alternating A B A B ..."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    out: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            times = []
            for _ in range(per_block):
                t0 = time.perf_counter()
                call()
                times.append((time.perf_counter() - t0) * 1000)
            out[name].append(statistics.median(times))
    return out


def search_load(
    url: str, clients: int, seconds: float, stop_event: threading.Event | None = None
) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        rng = random.Random(SEED + i)
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.monotonic() < deadline and not (stop_event and stop_event.is_set()):
                el = rng.choice(FACET_EL)
                body = {"q": f"material.elements:{el}", "facets": ["material.elements"], "limit": 10}
                t0 = time.perf_counter()
                r = http.post("/api/search", json=body)
                latencies[i].append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    errors[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    flat = [x for xs in latencies for x in xs]
    return {
        "requests": len(flat),
        "errors": sum(errors),
        "search_rps": round(len(flat) / wall, 1),
        "search_p50_ms": round(pct(flat, 50), 2),
        "search_p99_ms": round(pct(flat, 99), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    seconds = 5.0 if args.quick else 20.0
    rounds, per_block = (4, 40) if args.quick else (10, 100)
    clients = 16

    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        home = tmp / "hub"
        built = build_hub(home, n)
        shutil.copytree(home, tmp / "hub-uncontained")
        port, ml_port, open_port = free_port(), free_port(), free_port()
        procs.append(start_hub(home, port, tmp / "token", tmp / "hub.log"))
        procs.append(
            start_hub(
                tmp / "hub-uncontained",
                open_port,
                tmp / "token-uncontained",
                tmp / "hub-uncontained.log",
                "--no-servable-containment",
            )
        )
        url = f"http://127.0.0.1:{port}"
        token = (tmp / "token").read_text().strip()
        open_token = (tmp / "token-uncontained").read_text().strip()

        model, row = iris_model()
        remote = Hub(url, token=token, progress=False)
        name = remote.publish_servable(remote.describe(model, name="iris", title="Iris classifier"))
        open_remote = Hub(f"http://127.0.0.1:{open_port}", token=open_token, progress=False)
        open_remote.publish_servable(open_remote.describe(model, name="iris", title="Iris classifier"))
        open_remote.close()
        expected = int(model.predict(np.asarray([row]))[0])
        import mlflow.sklearn

        mlflow.sklearn.save_model(model, str(tmp / "mlflow-model"))
        procs.append(start_mlflow(tmp / "mlflow-model", ml_port, tmp / "mlflow.log"))

        hub_http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        ml_http = httpx.Client(base_url=f"http://127.0.0.1:{ml_port}", timeout=60)
        open_http = httpx.Client(
            base_url=f"http://127.0.0.1:{open_port}",
            headers={"Authorization": f"Bearer {open_token}"},
            timeout=60,
        )
        run_path = f"/api/servables/{name}/run"

        def hub_call() -> None:
            r = hub_http.post(run_path, json={"inputs": [row], "arrays": "lists"})
            assert r.status_code == 200 and r.json()["output"] == [expected], r.text

        def uncontained_call() -> None:
            r = open_http.post(run_path, json={"inputs": [row], "arrays": "lists"})
            assert r.status_code == 200 and r.json()["output"] == [expected], r.text

        def mlflow_call() -> None:
            r = ml_http.post("/invocations", json={"inputs": [row]})
            assert r.status_code == 200 and r.json()["predictions"] == [expected], r.text

        blocks = latency_blocks(
            {"matterhub": hub_call, "uncontained": uncontained_call, "mlflow": mlflow_call}, rounds, per_block
        )
        load = search_load(url, clients, seconds)

        # runs while the search load is on
        busy = threading.Event()
        background = threading.Thread(target=search_load, args=(url, clients, seconds * 4, busy))
        background.start()
        time.sleep(0.5)
        under_load = latency_blocks({"matterhub": hub_call}, max(2, rounds // 2), per_block, warmup=5)
        busy.set()
        background.join()

        hub_p50 = statistics.median(blocks["matterhub"])
        open_p50 = statistics.median(blocks["uncontained"])
        ml_p50 = statistics.median(blocks["mlflow"])
        result = {
            "bench": "service",
            "records": built["records"],
            "clients": clients,
            **load,
            "run_p50_ms": round(hub_p50, 3),
            "run_p50_spread_ms": [round(min(blocks["matterhub"]), 3), round(max(blocks["matterhub"]), 3)],
            "mlflow_run_p50_ms": round(ml_p50, 3),
            "mlflow_run_p50_spread_ms": [round(min(blocks["mlflow"]), 3), round(max(blocks["mlflow"]), 3)],
            "ratio_to_mlflow": round(hub_p50 / ml_p50, 3),
            "uncontained_run_p50_ms": round(open_p50, 3),
            "uncontained_run_p50_spread_ms": [
                round(min(blocks["uncontained"]), 3),
                round(max(blocks["uncontained"]), 3),
            ],
            "containment_ratio": round(hub_p50 / open_p50, 3),
            "run_p50_under_search_load_ms": round(statistics.median(under_load["matterhub"]), 3),
            "rounds": rounds,
            "per_block": per_block,
            "elements_from": built["elements_from"],
        }
        print(
            f"service benchmark: {built['records']:,} synthetic records (elements from {built['elements_from']})"
        )
        print(
            f"  search  {clients} clients x {seconds:.0f} s: {load['search_rps']} req/s, p50 "
            f"{load['search_p50_ms']} ms, p99 {load['search_p99_ms']} ms, errors {load['errors']}"
        )
        print(
            f"  run p50 (iris, 1 row): matterhub {result['run_p50_ms']} ms {result['run_p50_spread_ms']}  "
            f"mlflow {result['mlflow_run_p50_ms']} ms {result['mlflow_run_p50_spread_ms']}  "
            f"ratio {result['ratio_to_mlflow']}"
        )
        print(
            f"  run p50 uncontained (--no-servable-containment): {result['uncontained_run_p50_ms']} ms "
            f"{result['uncontained_run_p50_spread_ms']}  contained/uncontained {result['containment_ratio']}"
        )
        print(f"  run p50 under search load: {result['run_p50_under_search_load_ms']} ms")
        remote.close()
        hub_http.close()
        ml_http.close()
        open_http.close()
        print(json.dumps(result))
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
