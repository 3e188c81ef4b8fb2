"""Mirror mapping, the error without network or mirror, caching and sha256 checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from intake.readers import datatypes

from hub.catalog import RemoteDataError, TableReader, locate
from hub.exceptions import IntegrityError

URL = "https://raw.githubusercontent.com/hackingmaterials/matminer/v0.3.9/matminer/datasets/flla_2015.csv"


def test_mirror_paths_from_a_path_or_prefixes():
    assert locate.mirror_relpath(URL, "matminer/flla_2015.csv") == "matminer/flla_2015.csv"
    prefixes = {
        "https://raw.githubusercontent.com/hackingmaterials/": "mm/",
        "https://raw.githubusercontent.com/": "gh/",
    }
    assert locate.mirror_relpath(URL, prefixes) == "mm/matminer/v0.3.9/matminer/datasets/flla_2015.csv"
    assert locate.mirror_relpath("https://example.org/x", prefixes) is None
    assert locate.mirror_relpath(URL, None) is None


def test_url_anatomy():
    member = "tar://test-1.dm3::https://example.org/files.tar.gz"
    assert locate.protocols(member) == ["tar", "https"]
    assert locate.is_remote(member) and not locate.is_local(member)
    assert locate.basename(member) == "test-1.dm3"
    assert locate.is_local("/tmp/x.csv") and locate.is_local("file:///tmp/x.csv")
    assert locate.is_archive("https://example.org/run.tar.gz") and not locate.is_archive(member)


def test_mirror_copy_is_read_without_network(mirror):
    reader = TableReader(datatypes.CSV(url=URL, metadata={"mirror": "matminer/flla_2015.csv"}))
    df = reader.read()
    assert len(df) == 3938
    assert df.attrs["reference"].startswith("F. Faber")


def test_without_network_and_mirror_the_error_names_url_and_setting():
    reader = TableReader(datatypes.CSV(url=URL, metadata={"mirror": "matminer/flla_2015.csv"}))
    with pytest.raises(RemoteDataError) as err:
        reader.read()
    text = str(err.value)
    assert URL in text
    assert "MATTERHUB_MIRROR is not set" in text
    assert "$MATTERHUB_MIRROR/matminer/flla_2015.csv" in text


def test_a_mirror_without_the_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("MATTERHUB_MIRROR", str(tmp_path))
    reader = TableReader(datatypes.CSV(url=URL, metadata={"mirror": "matminer/flla_2015.csv"}))
    with pytest.raises(RemoteDataError, match=r"has no matminer/flla_2015.csv"):
        reader.read()


def test_a_failed_fetch_says_what_failed(monkeypatch):
    """A real fetch, to a closed loopback port: the message names the URL, the cause and the mirror."""
    monkeypatch.delenv("MATTERHUB_OFFLINE")
    url = "http://127.0.0.1:9/matminer/flla_2015.csv"
    reader = TableReader(datatypes.CSV(url=url, metadata={"mirror": "matminer/flla_2015.csv"}))
    with pytest.raises(RemoteDataError) as err:
        reader.read()
    assert url in str(err.value) and "MATTERHUB_MIRROR" in str(err.value)


def _serve_table(root: Path) -> tuple[str, str]:
    text = "# ref: a test table\nformula,energy\nNaCl,-3.5\nKCl,-3.6\n"
    (root / "t.csv").write_text(text)
    return "t.csv", hashlib.sha256(text.encode()).hexdigest()


def test_remote_reads_are_cached_and_verified(http_root, _private_cache):
    base, root, hits = http_root
    name, sha = _serve_table(root)
    reader = TableReader(datatypes.CSV(url=f"{base}/{name}", metadata={"sha256": sha}))
    first = reader.read()
    fetched = len(hits)
    assert fetched >= 1
    second = reader.read()
    assert len(hits) == fetched, "the second read must come from the cache"
    pd.testing.assert_frame_equal(first, second)
    assert first.attrs["reference"] == "a test table"
    assert list((_private_cache / "files").glob("*.sha256")), "the check is remembered beside the cached copy"


def test_a_download_that_does_not_match_its_sha256_is_refused_and_dropped(http_root, _private_cache):
    base, root, _ = http_root
    name, _sha = _serve_table(root)
    reader = TableReader(datatypes.CSV(url=f"{base}/{name}", metadata={"sha256": "0" * 64}))
    with pytest.raises(IntegrityError, match="does not match its catalog entry"):
        reader.read()
    cached = [p for p in (_private_cache / "files").iterdir() if p.is_file() and p.name != "cache"]
    assert not [p for p in cached if p.stat().st_size > 30], "the corrupt copy is deleted"


def test_blocks_of_remote_arrays_are_cached(http_root, tmp_path):
    import numpy as np
    import xarray as xr

    from hub.catalog import ArrayReader

    base, root, _hits = http_root
    xr.Dataset({"v": (("t", "x"), np.arange(2000.0).reshape(20, 100))}).to_netcdf(
        root / "a.nc", engine="h5netcdf", encoding={"v": {"chunksizes": (1, 100)}}
    )
    ds = ArrayReader(datatypes.HDF5(url=f"{base}/a.nc")).read()
    assert float(ds["v"][3, 7]) == 307.0
    ds.close()
    assert any((tmp_path / "cache" / "blocks").iterdir())


def test_package_files(tmp_path):
    found = locate.expand("pkg://ase/test/testdata/minerals/*.cif")
    assert len(found) == 8 and all(f.endswith(".cif") for f in found)
    with pytest.raises(Exception, match="not installed"):
        locate.expand("pkg://no_such_package_xyz/data.csv")


def test_named_links_keep_the_suffix(tmp_path):
    blob = tmp_path / "ab" / ("a" * 64)
    blob.parent.mkdir()
    blob.write_text("x,y\n1,2\n")
    link = locate.named(blob, "table.csv")
    assert link.name == "table.csv" and link.read_text() == "x,y\n1,2\n"
    assert locate.named(blob, blob.name) == blob
