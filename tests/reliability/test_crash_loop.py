"""Crash safety: a hub killed with SIGKILL, at chosen points and at random moments, loses
nothing it acknowledged and comes back consistent.

Two kinds of faults:

- **fault points** (embedded hub, a child process that ``os._exit``\\s exactly at one step
  of a submission: while storing blobs, during extraction, right before the catalog
  commit, between the catalog commit and the index update, inside the index update);
- **the crash loop**: ``matterhub serve`` (a real subprocess) receiving uploads and
  asynchronous servable runs from several threads is SIGKILLed at a random moment, then
  restarted, again and again (2 times in the default suite, more in ``make reliability``).

After each fault: no submission stays ``running``; every acknowledged submission
(HTTP 202) is ``complete`` (with every uploaded file, byte for byte) or ``failed`` with a
message, and one seen complete stays complete; every acknowledged task is ``completed``
or ``failed`` with a message; the search index holds exactly what the catalog says
(and a rebuild changes nothing); every blob hashes to its name; servable workers of the
killed server exit on their own.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from ase.build import bulk
from reliability_server import ServerProcess, record, scale

from hub import Hub

SEED = 20240612
ELEMENTS = [("Cu", "fcc", 3.61), ("Al", "fcc", 4.05), ("Fe", "bcc", 2.87), ("Si", "diamond", 5.43)]


# -- inputs -----------------------------------------------------------------------------------


def make_dataset(folder: Path, i: int) -> dict[str, str]:
    """A small dataset (a CIF written by ASE and a JSON file unique to ``i``); {path: sha256}."""
    folder.mkdir(parents=True, exist_ok=True)
    el, kind, a = ELEMENTS[i % len(ELEMENTS)]
    bulk(el, kind, a=a + 0.001 * i).write(folder / f"{el}.cif")
    (folder / "meta.json").write_text(json.dumps({"sample": i, "element": el, "note": "x" * (i % 7)}))
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def zip_bytes(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, f"{folder.name}/{p.name}")
    return buf.getvalue()


def slow_double(x: float) -> float:
    """A servable that takes a moment (so kills land while it runs)."""
    import time

    time.sleep(0.2)
    return 2 * x


# -- invariants ---------------------------------------------------------------------------------


def blob_problems(home: Path) -> tuple[int, list[str]]:
    """Every blob file of the hub's store, hashed: (how many, names that do not match)."""
    root = home / "blobs"
    checked, bad = 0, []
    for path in root.rglob("*"):
        if not path.is_file() or path.name.startswith(".tmp-"):
            continue
        checked += 1
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        if h.hexdigest() != path.name:
            bad.append(path.name)
    return checked, bad


def index_ids(hub: Any) -> set[str]:
    return {h.id for h in hub.scroll("*", kinds=["dataset", "record"])}


def catalog_ids(hub: Any) -> set[str]:
    """What the index must hold, from the catalog: each dataset's latest version and its records."""
    out = set()
    for ds in hub.datasets():
        out.add(ds.source_id)
        out.update(r["mdf"]["record_id"] for r in ds.records())
    return out


def check_embedded(home: Path) -> dict[str, Any]:
    """Open the hub as the restarted service would, and check every invariant; the figures."""
    hub = Hub(home, progress=False)
    try:
        subs = hub.submissions()
        running = [s.id for s in subs if s.status in ("running", "queued")]
        assert not running, f"submissions still running after a restart: {running}"
        before = index_ids(hub)
        expected = catalog_ids(hub)
        assert before == expected, f"index and catalog differ: {sorted(before ^ expected)[:10]}"
        registry = {s for s in hub._index.registry.sources() if not s.startswith("servable:")}
        datasets = {h.id for h in hub.scroll("*", kinds=["dataset"])}
        assert registry == datasets, f"the field registry and the index differ: {registry ^ datasets}"
        hub.rebuild_index()
        assert index_ids(hub) == before, "a rebuild changed the index"
        for ds in hub.datasets():
            assert hub.verify(ds.source_id) == [], ds.source_id
        notes = list((home / "index" / "pending").glob("*.json"))
        assert not notes, f"index notes left behind: {notes}"
        checked, bad = blob_problems(home)
        assert not bad, f"blobs that do not hash to their name: {bad}"
        return {"submissions": len(subs), "blobs": checked, "indexed": len(before)}
    finally:
        hub.close()


# -- fault points (embedded, exact) ----------------------------------------------------------------

FAULTS = {
    "storing blobs": "hub.store.blobs.BlobStore.put_file",
    "extracting": "hub.extractors.crystal.CrystalExtractor.extract",
    "before the catalog commit": "hub.db.database.Catalog.publish",
    "between catalog and index": "hub.index.hook.sync_name",
    "before the index commit": "hub.index.engine.SearchIndex.replace_sources",
    "after the index commit": "hub.index.registry.FieldRegistry.update",
}
#: Faults after which the submission is committed (it must stay complete).
COMMITTED = ("between catalog and index", "before the index commit", "after the index commit")

CHILD = textwrap.dedent(
    """
    import importlib, os, sys
    target, home, src = sys.argv[1:4]
    module, _, attr = target.rpartition(".")
    try:
        owner = importlib.import_module(module)
        name = attr
    except ModuleNotFoundError:
        module, _, cls = module.rpartition(".")
        owner = getattr(importlib.import_module(module), cls)
        name = attr
    real = getattr(owner, name)
    calls = {"n": 0}

    def die(*args, **kwargs):
        calls["n"] += 1
        if target.endswith("put_file") and calls["n"] == 1:
            return real(*args, **kwargs)  # the first blob lands; the process dies on the second
        os._exit(9)

    setattr(owner, name, die)
    from hub import Hub
    hub = Hub(home, user="alice", progress=False)
    hub.submit(src, "Crash test", ["Ward, Logan"], source_name="crashy")
    os._exit(0)
    """
)


#: The default suite kills at these; `make reliability` at every point.
SHORT = ("extracting", "between catalog and index", "after the index commit")


@pytest.mark.parametrize(
    "point", [p if p in SHORT else pytest.param(p, marks=pytest.mark.reliability) for p in FAULTS]
)
def test_a_kill_at_each_step_loses_nothing(tmp_path: Path, point: str) -> None:
    home = tmp_path / "hub"
    first = make_dataset(tmp_path / "first", 0)
    owner = Hub(home, user="alice", progress=False)
    ok = owner.submit(tmp_path / "first", "Before the crash", ["Ward, Logan"], source_name="before")
    assert ok.status == "complete"
    owner.close()
    make_dataset(tmp_path / "src", 1)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, FAULTS[point], str(home), str(tmp_path / "src")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 9, f"the fault was not reached ({child.returncode}): {child.stderr[-2000:]}"

    figures = check_embedded(home)  # the first open recovers; then every invariant holds
    hub = Hub(home, user="alice", progress=False)
    try:
        before = hub.dataset("before")
        assert {f["path"]: f["sha256"] for f in before.files()} == first
        (crashed,) = [s for s in hub.submissions() if s.source_name == "crashy"]
        if point in COMMITTED:
            assert crashed.status == "complete"  # committed before the kill: it stays
            assert hub.search("mdf.source_name:crashy", kinds=["dataset"]).total == 1
        else:
            assert crashed.status == "interrupted" and crashed.message, crashed
            assert hub.search("mdf.source_name:crashy").total == 0
            again = hub.retry(crashed.id)
            assert again.status == "complete", again.message
        assert hub.search("mdf.source_name:crashy", kinds=["dataset"]).total == 1
    finally:
        hub.close()
    check_embedded(home)
    record("crash: fault points", cases=1, faults=1, losses=0, point=point, **figures)


# -- the crash loop (matterhub serve, SIGKILL at random moments) ---------------------------------


class Workload:
    """Uploads and asynchronous runs from several threads, with what the server acknowledged."""

    def __init__(self, server: ServerProcess, token: str, servable: str, data: Path, rng: random.Random):
        self.server = server
        self.token = token
        self.servable = servable
        self.data = data
        self.rng = rng
        self.acked: dict[str, dict[str, str]] = {}  # submission id -> {path: sha256}
        self.seen_complete: set[str] = set()
        self.tasks: set[str] = set()
        self.counter = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def _next(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def uploads(self) -> None:
        with self.server.client(self.token, timeout=30) as http:
            while not self.stop.is_set():
                i = self._next()
                folder = self.data / f"ds{i:04d}"
                files = make_dataset(folder, i)
                meta = {"title": f"Dataset {i}", "authors": ["Ward, Logan"], "source_name": f"ds{i:04d}"}
                try:
                    r = http.post(
                        "/api/submissions/upload",
                        files={"file": (f"ds{i:04d}.zip", zip_bytes(folder), "application/zip")},
                        data={"metadata": json.dumps(meta)},
                    )
                except httpx.HTTPError:
                    return  # the server died mid-request: not acknowledged
                if r.status_code == 202:
                    with self.lock:
                        self.acked[r.json()["id"]] = files
                elif r.status_code == 429:  # a rate limit: not acknowledged; wait as told
                    self.stop.wait(float(r.headers.get("retry-after", "1")))
                else:
                    raise AssertionError(f"upload refused: {r.status_code} {r.text}")
                time.sleep(0.15)

    def runs(self) -> None:
        with self.server.client(self.token, timeout=30) as http:
            while not self.stop.is_set():
                try:
                    r = http.post(
                        f"/api/servables/{self.servable}/run",
                        json={"inputs": self.rng.random(), "asynchronous": True},
                    )
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    with self.lock:
                        self.tasks.add(r.json()["task"]["id"])
                time.sleep(0.25)

    def watch(self) -> None:
        with self.server.client(self.token, timeout=30) as http:
            while not self.stop.is_set():
                try:
                    r = http.get("/api/submissions", params={"status": "complete"})
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    with self.lock:
                        self.seen_complete.update(s["id"] for s in r.json())
                time.sleep(0.1)

    def workers(self) -> list[int]:
        """The servable workers (not short-lived helper processes) running below the server."""
        found = []
        for pid in self.server.tree():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
                if b"hub.servables.worker" in cmdline or b"hub.servables.contained" in cmdline:
                    found.append(pid)
            except OSError:
                continue
        return found

    def run_until_killed(self, seconds: float, kill: Callable[[], object] | None = None) -> int:
        """Load the server for ``seconds``, then until the state a kill must hit holds (an
        acknowledged upload, an acknowledged task and a servable worker running below the
        server; at most 120 s more, a loaded machine is slow to start one), then SIGKILL it.

        Returns the servable workers that ran just before the kill. (Counting them after the
        kill would race with their own exit: they leave within a second or two of their hub.)"""
        threads = [threading.Thread(target=f, daemon=True) for f in (self.uploads, self.runs, self.watch)]
        for t in threads:
            t.start()
        time.sleep(seconds)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (self.acked and self.tasks and self.workers()):
            time.sleep(0.05)
        running = len(self.workers())
        (kill or self.server.kill)()
        self.stop.set()
        for t in threads:
            t.join(60)
        self.stop.clear()
        return running


def wait_settled(http: httpx.Client, timeout: float = 300.0) -> list[dict[str, Any]]:
    """Every submission once none is queued or running (the worker resumed them)."""
    deadline = time.monotonic() + timeout
    while True:
        subs: list[dict[str, Any]] = http.get("/api/submissions").json()
        if not [s for s in subs if s["status"] in ("queued", "running", "interrupted")]:
            return subs
        if time.monotonic() > deadline:
            raise AssertionError(f"submissions not settled after {timeout} s: {subs}")
        time.sleep(0.2)


def check_server(server: ServerProcess, load: Workload) -> dict[str, int]:
    """The invariants, through the API of the restarted server; the figures."""
    with server.client(server.admin_token) as http:
        subs = {s["id"]: s for s in wait_settled(http)}
        lost = [i for i in load.acked if i not in subs]
        assert not lost, f"acknowledged submissions lost: {lost}"
        regressed = [i for i in load.seen_complete if subs[i]["status"] != "complete"]
        assert not regressed, f"submissions seen complete are not any more: {regressed}"
        failed = 0
        for sub_id, files in load.acked.items():
            sub = subs[sub_id]
            if sub["status"] == "failed":
                assert sub["message"], sub
                failed += 1
                continue
            assert sub["status"] == "complete", sub
            sid = sub["source_id"]
            listed = {f["path"]: f["sha256"] for f in http.get(f"/api/datasets/{sid}/files").json()}
            assert listed == files, (sub_id, listed, files)
            for path, sha in files.items():
                body = http.get(f"/api/datasets/{sid}/files/{path}").content
                assert hashlib.sha256(body).hexdigest() == sha
            assert http.get(f"/api/datasets/{sid}/verify").json()["ok"]
        unfinished = 0
        deadline = time.monotonic() + 180
        for task_id in sorted(load.tasks):
            while True:  # a task the killed server acknowledged is resumed, or failed clearly
                task = http.get(f"/api/tasks/{task_id}").json()
                if task["status"] in ("completed", "failed") or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert task["status"] in ("completed", "failed"), task
            if task["status"] == "failed":
                assert task["error"]["message"], task
                unfinished += 1
            else:
                assert task["result"] is not None, task
        indexed: set[str] = set()
        after = None
        while True:
            page = http.post(
                "/api/search/scroll", json={"q": "*", "kinds": ["dataset", "record"], "after": after}
            ).json()
            indexed |= {h["id"] for h in page["hits"]}
            after = page["next"]
            if after is None:
                break
        expected: set[str] = set()
        for ds in http.get("/api/datasets").json():
            expected.add(ds["source_id"])
            recs = http.get(f"/api/datasets/{ds['source_id']}/records", params={"limit": 10000}).json()
            expected |= {r["mdf"]["record_id"] for r in recs}
        assert indexed == expected, f"index and catalog differ: {sorted(indexed ^ expected)[:10]}"
    return {
        "acked": len(load.acked),
        "failed_clean": failed,
        "tasks": len(load.tasks),
        "tasks_failed": unfinished,
    }


def crash_loop(server_factory: Any, tmp_path: Path, kills: int, catalog: str | None = None) -> None:
    """SIGKILL the server ``kills`` times under load, restarting it; with ``catalog`` (PostgreSQL)
    the server runs ``--workers 2`` and each kill hits one of its API processes instead
    (uvicorn starts another; the writer and its pool keep running)."""
    rng = random.Random(SEED)
    if catalog is None:
        server: ServerProcess = server_factory()
    else:
        Hub(tmp_path / "hub", catalog=catalog, progress=False).close()
        server = server_factory(home=tmp_path / "hub", args=("--workers", "2"))
    tokens = server.add_users({"alice": ["lab", "servable-publishers"]})
    remote = Hub(server.url, token=tokens["alice"], progress=False)
    servable = remote.publish_servable(remote.describe(slow_double, name="slow_double"))
    remote.close()
    load = Workload(server, tokens["alice"], servable, tmp_path / "data", rng)
    orphans = 0
    figures: dict[str, int] = {}
    workers_seen = 0
    for _ in range(kills):
        if catalog is not None:
            killed: list[int] = []
            workers_seen += load.run_until_killed(
                rng.uniform(1.5, 3.0), lambda k=killed: k.append(server.kill_api_process())
            )
            deadline = time.monotonic() + 120  # uvicorn starts another API process
            while time.monotonic() < deadline:
                now = server.api_processes()
                if len(now) == 2 and killed[0] not in now:
                    break
                time.sleep(0.2)
            assert len(server.api_processes()) == 2 and killed[0] not in now, server.log_tail()
            figures = check_server(server, load)
            continue
        workers_seen += load.run_until_killed(rng.uniform(1.5, 3.0))  # workers the kill hit
        deadline = time.monotonic() + 20  # they notice their hub is gone within a second or two
        while server.leftovers() and time.monotonic() < deadline:
            time.sleep(0.2)
        orphans += len(server.leftovers())
        server.start()
        figures = check_server(server, load)
    server.stop()
    assert load.acked and load.tasks, "nothing was acknowledged before the kills: the loop proved nothing"
    assert workers_seen > 0, "no servable worker was running at a kill: the orphan check proved nothing"
    assert orphans == 0, f"{orphans} servable workers outlived their killed server"
    final = check_embedded(server.home)
    record(
        "crash: SIGKILL loop" + (" (an API process of --workers 2)" if catalog else ""),
        cases=kills,
        faults=kills,
        losses=0,
        orphans=orphans,
        workers_at_kills=workers_seen,
        blobs_verified=final["blobs"],
        **figures,
    )


def test_crash_loop_short(server_factory: Any, tmp_path: Path) -> None:
    crash_loop(server_factory, tmp_path, kills=1)


@pytest.mark.reliability
def test_crash_loop_long(server_factory: Any, tmp_path: Path) -> None:
    crash_loop(server_factory, tmp_path, kills=scale(1, 10))


def test_killing_an_api_process_loses_nothing_acknowledged(
    server_factory: Any, tmp_path: Path, postgres_server: Any, postgres_template: str
) -> None:
    catalog = postgres_server.url(postgres_server.create_database(template=postgres_template))
    crash_loop(server_factory, tmp_path, kills=scale(2, 10), catalog=catalog)


def test_the_invariant_checks_can_fail(tmp_path: Path) -> None:
    """The checks above find a corrupt blob and an index that misses a dataset."""
    home = tmp_path / "hub"
    make_dataset(tmp_path / "src", 3)
    hub = Hub(home, user="alice", progress=False)
    sub = hub.submit(tmp_path / "src", "Thing", ["Ward, Logan"], source_name="thing")
    hub._index.replace_sources([sub.source_id], [])  # the index loses the dataset
    hub.close()
    with pytest.raises(AssertionError, match="index and catalog differ"):
        check_embedded(home)
    blob = next(p for p in (home / "blobs").rglob("*") if p.is_file() and not p.name.startswith("."))
    blob.write_bytes(b"corrupt")
    assert blob_problems(home)[1] == [blob.name]


def test_index_notes_of_running_processes_are_left_alone(tmp_path: Path) -> None:
    """A note is recovered only once the process that wrote it is gone."""
    from hub.index.journal import IndexJournal

    journal = IndexJournal(tmp_path / "index")
    journal.begin("mine")  # this process runs: not an orphan
    synced: list[str] = []
    assert journal.recover(synced.append) == [] and synced == []
    dead = subprocess.run(
        [sys.executable, "-c", "import sys; from hub.index.journal import IndexJournal; "
         "IndexJournal(sys.argv[1]).begin('theirs')", str(tmp_path / "index")],
        check=True,
    )  # fmt: skip
    assert dead.returncode == 0
    assert journal.recover(synced.append) == ["theirs"] and synced == ["theirs"]
    journal.end("mine")
    assert list((tmp_path / "index" / "pending").glob("*.json")) == []
