"""Every MatterHub reader passes the same checks (intake's ``test_consistency`` idea)."""

from __future__ import annotations

import importlib
import importlib.metadata

import intake
import numpy as np
import pytest
from intake.readers import datatypes
from intake.readers.readers import BaseReader
from intake.readers.utils import subclasses

import hub.catalog
from hub.catalog import ImageReader, TableReader
from hub.catalog.base import HubReader

READERS = sorted(
    (
        c
        for c in subclasses(BaseReader)
        if c.__module__.startswith("hub.catalog") and c is not HubReader and not c.__name__.startswith("_")
    ),
    key=lambda c: c.__name__,
)


def test_readers_are_registered_through_the_intake_entry_point():
    eps = importlib.metadata.entry_points(group="intake.imports")
    assert any(ep.value == "hub.catalog" for ep in eps)
    assert len(READERS) >= 10
    assert intake.recommend("scan.dm3")[0] is hub.catalog.DigitalMicrograph
    assert (
        hub.catalog.MicroscopyReader
        in hub.catalog.DigitalMicrograph(url="x.dm3").possible_readers["importable"]
    )


@pytest.mark.parametrize("cls", READERS, ids=[c.__name__ for c in READERS])
def test_reader_metadata_is_declarative_and_true(cls):
    assert cls.implements, "a reader says which datatypes it reads"
    assert all(issubclass(d, datatypes.BaseData) for d in cls.implements)
    assert cls.output_instance and ":" in cls.output_instance
    module, name = cls.output_instance.split(":")
    target = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    assert isinstance(target, type)
    for dist in cls.imports:
        importlib.metadata.distribution(dist)  # distribution names, as intake's check_imports wants
    assert cls.check_imports()
    assert isinstance(cls.func, str) and ":" in cls.func
    assert cls.__doc__ and cls.doc()


@pytest.mark.parametrize("cls", READERS, ids=[c.__name__ for c in READERS])
def test_reader_entries_survive_a_catalog(cls, tmp_path):
    data_cls = next(iter(cls.implements))
    if issubclass(data_cls, datatypes.FileData):
        data = data_cls(url=str(tmp_path / "x"), metadata={"sha256": "0" * 64})
    elif data_cls is hub.catalog.PythonData:
        data = data_cls(module="ase.data.g2_1")
    else:
        data = (
            data_cls(hub=str(tmp_path), source_id="x_v1")
            if "source_id" in data_cls.__init__.__code__.co_varnames
            else None
        )
    if data is None:
        pytest.skip("no sample data for this datatype")
    cat = intake.entry.Catalog()
    token = cat.add_entry(cls(data))
    cat.aliases["entry"] = token
    cat.to_yaml_file(str(tmp_path / "c.yaml"))
    again = intake.from_yaml_file(str(tmp_path / "c.yaml"))
    assert type(again["entry"]) is cls
    assert again["entry"].data.metadata == data.metadata


def test_tables_of_every_format(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    df.to_parquet(tmp_path / "t.parquet")
    df.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    df.to_excel(tmp_path / "t.xlsx", index=False)
    (tmp_path / "t.tsv").write_text("a\tb\n1\tx\n2\ty\n")
    for name, kind in [
        ("t.parquet", datatypes.Parquet),
        ("t.jsonl", datatypes.JSONFile),
        ("t.xlsx", datatypes.Excel),
        ("t.tsv", datatypes.CSV),
    ]:
        out = TableReader(kind(url=str(tmp_path / name))).read()
        pd.testing.assert_frame_equal(out.reset_index(drop=True), df, check_dtype=False), name


def test_images_have_physical_axes_from_their_resolution(tmp_path):
    from PIL import Image

    pixels = (np.arange(12 * 20 * 3) % 251).astype("uint8").reshape(12, 20, 3)
    Image.fromarray(pixels).save(tmp_path / "p.png", dpi=(100, 100))
    arr = ImageReader(datatypes.PNG(url=str(tmp_path / "p.png"))).read()
    assert arr.dims == ("y", "x", "band")
    assert arr["band"].values.tolist() == ["R", "G", "B"]
    assert arr["x"].attrs["units"] == "in"
    assert float(arr["x"][1]) == pytest.approx(0.01, rel=1e-3)
    assert hasattr(arr.data, "dask")
    np.testing.assert_array_equal(arr.values, pixels)
    Image.fromarray(pixels[..., 0]).save(tmp_path / "g.gif")
    gray = ImageReader(hub.catalog.PillowImage(url=str(tmp_path / "g.gif"))).read()
    assert gray.dims == ("y", "x") and gray["x"].attrs["units"] == "px"


def test_a_csv_with_bad_bytes_past_the_sniffed_head_still_reads(tmp_path):
    """The strict fast path falls back to read_table's replacing decoder."""
    path = tmp_path / "big.csv"
    rows = "".join(f"{i},name{i}\n" for i in range(120_000))  # well over the 1 MB read_table sniffs
    path.write_bytes(b"id,name\n" + rows.encode() + b"120000,caf\xe9\n")
    df = TableReader(datatypes.CSV(url=str(path))).read()
    assert len(df) == 120_001
    assert df["name"].iloc[-1] == "caf\ufffd"
