"""Publishing by reference against downloading: bytes read from the source and time.

The file set (about 1 GB; made under /tmp, never in the repository, and reused by later
runs) is real-format data: ``--files`` HDF5 files of float64 fields and uint8 masks
written with a fixed seed (``numpy.random.default_rng(22)``), plus a real VASP run folder
and COD CIFs copied from ../shared/data, and a ``SHA256SUMS`` file as a data publisher
writes with ``sha256sum``.  A real HTTP server on loopback (``tests/connect/range_server.py``:
``http.server`` with ``Range``) serves it and counts the bytes it sends.

Measured, each against a fresh hub:

- ``download``: fsspec copies the whole set (what a copying submission reads first);
- ``by reference, declared sha256``: ``hub.submit(url, copy=False)`` with the SHA256SUMS
  file beside the data: extractors that need only headers (HDF5) read them in range
  requests; files whose extractor needs a local file (the VASP run, CIFs) are fetched;
- ``by reference, hashed``: the same without SHA256SUMS: every file is streamed once to
  hash it (nothing kept), so about 1x the bytes, but no blob store growth;
- ``copy (download + submit)``: the download, then ``hub.submit(folder)`` stores every
  byte as blobs and extracts (an HTTP folder URL is one page of links to fsspec's copying
  collect, so the copy is measured from the downloaded folder).

Goal: ``by reference, declared`` reads <= 0.1x the bytes of the download.

    python benchmarks/federation_byref.py [--size-mb 1024] [--files 8] [--skip-copy]

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import fsspec
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "connect"))

from range_server import serve  # noqa: E402

from hub import Hub  # noqa: E402

DATA = REPO.parent / "shared" / "data"
VASP = DATA / "materialsio" / "vasp" / "AlNi_static_LDA"
CIFS = DATA / "ase" / "minerals"
SEED = 22


def make_file_set(root: Path, size_mb: int, n_files: int) -> Path:
    """The file set under ``root`` (made once for these arguments; a marker file says it is complete)."""
    import h5py

    folder = root / f"byref-{size_mb}mb-{n_files}f-seed{SEED}"
    if (folder / "complete").is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    data = folder / "data"
    data.mkdir(parents=True)
    rng = np.random.default_rng(SEED)
    per_file = size_mb * (1 << 20) // n_files
    side = 512
    depth = max(1, per_file // (side * side * 8 + side * side))
    for i in range(n_files):
        with h5py.File(data / f"field_{i:02d}.h5", "w") as f:
            f.attrs["seed"] = SEED
            f.attrs["index"] = i
            f.create_dataset("density", data=rng.random((depth, side, side)), chunks=(1, side, side))
            f.create_dataset(
                "mask", data=rng.integers(0, 2, (depth, side, side), dtype="u1"), chunks=(1, side, side)
            )
    if VASP.is_dir():
        shutil.copytree(VASP, data / VASP.name)
    for cif in sorted(CIFS.glob("*.cif"))[:10]:
        shutil.copy(cif, data / cif.name)
    lines = []
    for p in sorted(x for x in data.rglob("*") if x.is_file()):
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            while block := fh.read(8 << 20):
                h.update(block)
        lines.append(f"{h.hexdigest()}  {p.relative_to(data).as_posix()}\n")
    (folder / "SHA256SUMS.data").write_text("".join(lines))
    (folder / "complete").write_text("complete\n")
    return folder


def _hub_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--skip-copy", action="store_true", help="skip the copying submission")
    ap.add_argument("--where", default=tempfile.gettempdir(), help="where the file set is made")
    args = ap.parse_args()

    folder = make_file_set(Path(args.where), args.size_mb, args.files)
    data = folder / "data"
    files = [p for p in data.rglob("*") if p.is_file() and p.name != "SHA256SUMS"]
    total = sum(p.stat().st_size for p in files)
    sums = data / "SHA256SUMS"
    rows: list[tuple[str, int, float, int]] = []

    with serve(data) as (base, counter), tempfile.TemporaryDirectory(prefix="bench-byref-") as tmp:
        url = f"{base}/"
        sums.unlink(missing_ok=True)

        counter.reset()
        t0 = time.perf_counter()
        fs = fsspec.filesystem("http", skip_instance_cache=True)
        for remote in fs.find(url):  # what a copying submission fetches first
            local = Path(tmp) / "download" / remote[len(url) :]
            local.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(remote, str(local))
        rows.append(("download", counter.bytes, time.perf_counter() - t0, 0))
        shutil.rmtree(Path(tmp) / "download")

        def by_reference(label: str) -> None:
            home = Path(tmp) / label.replace(" ", "_").replace(",", "")
            with Hub(home, progress=False) as h:
                counter.reset()
                t = time.perf_counter()
                sub = h.submit(url, title=f"Bench {label}", authors=["Bench, Mark"], copy=False)
                took = time.perf_counter() - t
                assert sub.status == "complete", (sub.message, sub.errors[:3])
                assert len(h.files(sub.source_id)) >= len(files)
                rows.append((label, counter.bytes, took, _hub_bytes(home)))

        by_reference("by reference, hashed")
        shutil.copy(folder / "SHA256SUMS.data", sums)
        by_reference("by reference, declared")
        sums.unlink()

        if not args.skip_copy:  # a copying submission: the download above, then the hub stores it
            fetched = Path(tmp) / "fetched"
            counter.reset()
            t = time.perf_counter()
            for remote in fs.find(url):
                local = fetched / remote[len(url) :]
                local.parent.mkdir(parents=True, exist_ok=True)
                fs.get_file(remote, str(local))
            home = Path(tmp) / "copy"
            with Hub(home, progress=False) as h:
                sub = h.submit(fetched, title="Bench copy", authors=["Bench, Mark"])
                took = time.perf_counter() - t
                assert sub.status == "complete", (sub.message, sub.errors[:3])
                rows.append(("copy (download + submit)", counter.bytes, took, _hub_bytes(home)))
            shutil.rmtree(home)
            shutil.rmtree(fetched)

    download_bytes = rows[0][1]
    print(f"file set: {len(files)} files, {total / 1e6:,.1f} MB ({folder})")
    print(f"{'':26}{'bytes read':>16}{'x download':>12}{'seconds':>10}{'hub folder':>14}")
    for label, nbytes, took, hub_bytes in rows:
        print(f"{label:26}{nbytes:>16,}{nbytes / download_bytes:>12.3f}{took:>10.2f}{hub_bytes:>14,}")
    out = {
        "benchmark": "federation_byref",
        "files": len(files),
        "total_bytes": total,
        "seed": SEED,
        "file_set": "HDF5 fields written with numpy.random.default_rng(22) + a real VASP run and COD CIFs",
    }
    for label, nbytes, took, hub_bytes in rows:
        key = re.sub(r"[^a-z]+", "_", label).strip("_")
        out[key] = {
            "bytes_read": nbytes,
            "ratio": round(nbytes / download_bytes, 4),
            "seconds": round(took, 3),
            "hub_bytes": hub_bytes,
        }
    out["goal_declared_ratio_le_0.1"] = out["by_reference_declared"]["ratio"] <= 0.1  # type: ignore[index]
    shutil.rmtree(folder, ignore_errors=True)  # the file set is made again by each run
    print(json.dumps(out))


if __name__ == "__main__":
    main()
