"""Tests of hub/formats/microscopy.py: microscopy files through RosettaSciIO, and which TIFFs
are microscope TIFFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub.exceptions import ExtractionError
from hub.formats.microscopy import (
    close_signals,
    instrument_metadata,
    is_microscope_tiff,
    main_signal,
    mapped_metadata,
    read_signals,
    signal_axes,
)

pytest.importorskip("rsciio")
tifffile = pytest.importorskip("tifffile")

# An FEI/Thermo xT metadata block as FEI SEMs write it into TIFF tag 34682.
FEI_METADATA = "\r\n".join(
    [
        "[System]",
        "SystemType=Quanta 650",
        "[Beam]",
        "HV=15000",
        "[EBeam]",
        "HV=15000",
        "HFW=0.0001",
        "[Scan]",
        "PixelWidth=1e-07",
        "PixelHeight=1e-07",
        "HorFieldsize=0.0001",
        "Dwelltime=3e-06",
        "[Image]",
        "MagCanvasRealWidth=0.127",
        "[Detectors]",
        "Name=TLD",
        "",
    ]
)


def write_fei_tiff(path: Path) -> Path:
    tifffile.imwrite(path, np.zeros((8, 10), "uint16"), extratags=[(34682, "s", 0, FEI_METADATA, True)])
    return path


def test_microscope_tiffs_by_their_tags(tmp_path: Path) -> None:
    plain = tmp_path / "plain.tiff"
    tifffile.imwrite(plain, np.zeros((4, 4), "uint8"))
    assert is_microscope_tiff(write_fei_tiff(tmp_path / "sem.tif"))
    assert not is_microscope_tiff(plain)


def test_not_a_tiff_is_not_a_microscope_tiff(tmp_path: Path) -> None:
    fake = tmp_path / "fake.tif"
    fake.write_text("not a tiff")
    assert not is_microscope_tiff(fake)
    assert not is_microscope_tiff(tmp_path / "absent.tif")


def test_a_fei_tiff_read_lazily(tmp_path: Path) -> None:
    signals = read_signals(write_fei_tiff(tmp_path / "sem.tif"))
    signal, metadata = main_signal(signals)
    assert hasattr(signal["data"], "dask")
    axes = signal_axes(signal)
    assert [(a["name"], a["size"], a["units"], a["navigate"]) for a in axes] == [
        ("height", 8, "m", False),
        ("width", 10, "m", False),
    ]
    assert axes[1]["scale"] == pytest.approx(1e-7)
    settings = instrument_metadata(metadata, signal["original_metadata"])
    assert settings["beam_energy"] == pytest.approx(15.0)  # keV from HV = 15000 V
    assert settings["magnification"] == pytest.approx(1270.0)  # canvas 0.127 m / HFW 0.1 mm
    assert (settings["acquisition_mode"], settings["detector"]) == ("SEM", "TLD")
    close_signals(signals)
    assert signals == []


def test_reader_arguments_reach_rosettasciio(tmp_path: Path) -> None:
    (signal,) = read_signals(write_fei_tiff(tmp_path / "sem.tif"), lazy=False)
    assert isinstance(signal["data"], np.ndarray)


def test_files_it_does_not_read(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match=r"not '\.h5'"):
        read_signals(tmp_path / "a.h5")
    broken = tmp_path / "broken.dm3"
    broken.write_bytes(b"\x00" * 64)
    with pytest.raises(ExtractionError, match=r"broken\.dm3"):
        read_signals(broken)


def test_a_failing_mapping_entry_loses_only_its_value() -> None:
    original = {"Beam": {"HV": "notafloat"}, "Optics": {"Mag": "1000"}}
    signal = {
        "metadata": {"General": {"title": "t"}},
        "original_metadata": original,
        "mapping": {
            "Beam.HV": ("Acquisition_instrument.TEM.beam_energy", float),
            "Optics.Mag": ("Acquisition_instrument.TEM.magnification", float),
        },
    }
    metadata = mapped_metadata(signal)
    assert metadata == {
        "General": {"title": "t"},
        "Acquisition_instrument": {"TEM": {"magnification": 1000.0}},
    }
    assert signal["metadata"] == {"General": {"title": "t"}}  # a new tree
    assert instrument_metadata(metadata, original) == {"magnification": 1000.0}


def test_axes_in_array_order_with_plain_values() -> None:
    signal = {
        "data": np.zeros((3, 4)),
        "axes": [
            {"name": "x", "size": 4, "index_in_array": 1, "scale": float("nan"), "units": "<undefined>"},
            {"name": "", "size": 3, "index_in_array": 0, "scale": 2, "offset": -0.0, "units": " nm ",
             "navigate": True},
        ],
    }  # fmt: skip
    assert signal_axes(signal) == [
        {"name": "axis0", "size": 3, "scale": 2.0, "offset": 0.0, "units": "nm", "navigate": True},
        {"name": "x", "size": 4, "offset": 0.0, "navigate": False},
    ]
