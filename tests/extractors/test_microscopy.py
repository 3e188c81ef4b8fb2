"""Tests of hub/extractors/microscopy.py: the record blocks of DM, EMD and microscope TIFFs (the
reading: tests/formats/test_microscopy.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub.extractors.base import ExtractionContext
from hub.extractors.image import ImageExtractor
from hub.extractors.microscopy import MicroscopyExtractor
from hub.formats.microscopy import is_microscope_tiff
from hub.records.record import BLOCKS

pytest.importorskip("rsciio")
tifffile = pytest.importorskip("tifffile")

# An FEI/Thermo xT metadata block as FEI SEMs write it into TIFF tag 34682.
FEI_METADATA = "\r\n".join(
    [
        "[User]",
        "Date=01/02/2020",
        "Time=10:11:12 AM",
        "User=someone",
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
        "Mode=SE",
        "",
    ]
)


def extract(path: Path) -> dict[str, Any]:
    out = MicroscopyExtractor().extract((path,), ExtractionContext(root=path.parent))
    json.dumps(out, allow_nan=False)  # plain JSON, no NaN
    assert isinstance(out, dict)
    for block, value in out.items():  # fits the record schema
        BLOCKS[block].model_validate(value)
    return out


def write_fei_tiff(path: Path, metadata: str = FEI_METADATA) -> Path:
    tifffile.imwrite(path, np.zeros((8, 10), "uint16"), extratags=[(34682, "s", 0, metadata, True)])
    return path


# -- always run: files the tests write -------------------------------------------


def test_fei_tiff_written_here(tmp_path: Path) -> None:
    path = write_fei_tiff(tmp_path / "sem.tif")
    out = extract(path)
    image, em = out["image"], out["electron_microscopy"]
    assert image["shape"] == [8, 10] and image["dtype"] == "uint16"
    assert (image["width"], image["height"]) == (10, 8)
    assert [a["units"] for a in image["axes"]] == ["m", "m"]
    assert image["axes"][1]["scale"] == pytest.approx(1e-7)
    assert em["beam_energy"] == pytest.approx(15.0)  # keV from HV = 15000 V
    assert em["magnification"] == pytest.approx(1270.0)  # canvas 0.127 m / HFW 0.1 mm
    assert em["acquisition_mode"] == "SEM"
    assert em["detector"] == "TLD"
    assert em["microscope"] == "Quanta 650"
    assert em["dwell_time"] == pytest.approx(3e-6)


def test_bad_float_in_fei_metadata_loses_only_that_value(tmp_path: Path) -> None:
    path = write_fei_tiff(tmp_path / "bad.tif", FEI_METADATA.replace("HV=15000", "HV=notafloat"))
    em = extract(path)["electron_microscopy"]
    assert "beam_energy" not in em
    assert em["microscope"] == "Quanta 650" and em["dwell_time"] == pytest.approx(3e-6)


def test_tiffs_are_claimed_by_exactly_one_of_microscopy_and_image(tmp_path: Path) -> None:
    microscope = write_fei_tiff(tmp_path / "sem.tif")
    plain = tmp_path / "plain.tiff"
    tifffile.imwrite(plain, np.zeros((4, 4), "uint8"))
    assert is_microscope_tiff(microscope) and not is_microscope_tiff(plain)
    assert MicroscopyExtractor().claims(microscope) and not ImageExtractor().claims(microscope)
    assert ImageExtractor().claims(plain) and not MicroscopyExtractor().claims(plain)


def test_dm_and_emd_claimed_by_name(tmp_path: Path) -> None:
    extractor = MicroscopyExtractor()
    for name in ("a.dm3", "b.DM4", "c.emd"):
        assert extractor.claims(tmp_path / name)
    assert not extractor.claims(tmp_path / "d.h5")
    assert not extractor.claims(tmp_path / "tiff_FEI_Helios.zip")


def test_unreadable_file_raises_extraction_error(tmp_path: Path) -> None:
    from hub.exceptions import ExtractionError

    broken = tmp_path / "broken.dm3"
    broken.write_bytes(b"\x00" * 64)
    with pytest.raises(ExtractionError, match=r"broken\.dm3"):
        extract(broken)


# -- real files ------------------------------------------------------------------


def test_dm3_eds_spectrum(shared_data: Path) -> None:
    out = extract(shared_data / "materialsio/electron_microscopy/test-EDS_spectrum.dm3")
    image, em = out["image"], out["electron_microscopy"]
    assert image["shape"] == [4096] and "width" not in image
    assert image["axes"][0]["units"] == "keV"
    assert image["axes"][0]["scale"] == pytest.approx(0.005)
    assert em["signal_type"] == "EDS_TEM"
    assert em["beam_energy"] == 200.0
    assert em["acquisition_mode"] == "STEM"
    assert em["magnification"] == 320000.0
    assert em["camera_length"] == 135.0
    assert em["exposure_time"] == 60.0
    assert em["microscope"] == "FEI Titan"


def test_dm3_and_dm4_test_images(shared_data: Path) -> None:
    dm3 = extract(shared_data / "materialsio/electron_microscopy/test-1.dm3")
    dm4 = extract(shared_data / "materialsio/electron_microscopy/test-1.dm4")
    assert dm3["image"]["shape"] == [2] and dm3["image"]["dtype"] == "int16"
    assert dm4["image"]["shape"] == [2, 2] and dm4["image"]["width"] == 2
    assert "electron_microscopy" not in dm3  # the test files carry no instrument tags


def test_dm3_eels_spectrum(shared_data: Path) -> None:
    out = extract(shared_data / "rosettasciio/digitalmicrograph/1D/test-EELS_spectrum.dm3")
    axis = out["image"]["axes"][0]
    assert (axis["name"], axis["units"], axis["scale"], axis["offset"]) == (
        "Energy loss",
        "eV",
        0.5,
        -100.0,
    )
    em = out["electron_microscopy"]
    assert em["signal_type"] == "EELS" and em["beam_energy"] == 200.0
    assert em["magnification"] == 640000.0 and em["detector"] == "GIF Quantum ER"


def test_dm3_stem_image(shared_data: Path) -> None:
    out = extract(shared_data / "rosettasciio/digitalmicrograph/2D/test_STEM_image.dm3")
    image, em = out["image"], out["electron_microscopy"]
    assert (image["width"], image["height"]) == (68, 68)
    assert [a["units"] for a in image["axes"]] == ["nm", "nm"]
    assert em["acquisition_mode"] == "STEM" and em["magnification"] == 225000.0
    assert em["dwell_time"] == pytest.approx(3.5e-6)


def test_dm3_diffraction_pattern(shared_data: Path) -> None:
    out = extract(shared_data / "rosettasciio/digitalmicrograph/2D/test_diffraction_pattern.dm3")
    image, em = out["image"], out["electron_microscopy"]
    assert [a["units"] for a in image["axes"]] == ["1/nm", "1/nm"]
    assert em["acquisition_mode"] == "TEM"
    assert em["camera_length"] == pytest.approx(320.0)  # diffraction: the indicated "mag"
    assert "magnification" not in em
    assert em["detector"] == "BM-UltraScan" and em["exposure_time"] == pytest.approx(0.2)


def test_dm4_eels_spectrum_image(shared_data: Path) -> None:
    out = extract(shared_data / "rosettasciio/digitalmicrograph/3D/EELS_SI.dm4")
    image = out["image"]
    assert image["shape"] == [2048, 2, 2]
    assert [a["units"] for a in image["axes"]] == ["eV", "µm", "µm"]
    assert "width" not in image  # a spectrum image: the signal is the energy axis
    assert out["electron_microscopy"]["signal_type"] == "EELS"
    assert out["electron_microscopy"]["camera_length"] == 550.0


def test_emd_velox_tem_stack(shared_data: Path) -> None:
    out = extract(shared_data / "rosettasciio/emd/fei_example_tem_stack.emd")
    image, em = out["image"], out["electron_microscopy"]
    assert image["shape"] == [2, 3, 3] and (image["width"], image["height"]) == (3, 3)
    assert [a["units"] for a in image["axes"]] == ["s", "pm", "pm"]
    assert em["beam_energy"] == 300.0
    assert em["camera_length"] == pytest.approx(478.0)
    assert em["microscope"] == "Titan" and em["detector"] == "BM-Ceta"
    assert em["acquisition_mode"] == "TEM"
    assert em["magnification"] == pytest.approx(1271519.155)
    assert em["exposure_time"] == pytest.approx(0.8)


def test_emd_berkeley_prismatic(shared_data: Path) -> None:
    out = extract(shared_data / "rosettasciio/emd/Si100_3D.emd")
    image = out["image"]
    assert image["shape"] == [37, 22, 22]
    assert [a["units"] for a in image["axes"]] == ["mrad", "nm", "nm"]
    assert out["electron_microscopy"]["beam_energy"] == 100.0


@pytest.mark.parametrize("name", ["FEI-Helios-Ebeam-16bits.tif", "FEI-Helios-Ebeam-8bits.tif"])
def test_fei_helios_sem_tiff(shared_data: Path, name: str) -> None:
    out = extract(shared_data / "rosettasciio/tiff" / name)
    image, em = out["image"], out["electron_microscopy"]
    assert (image["width"], image["height"]) == (512, 471)
    assert image["dtype"] == ("uint16" if "16" in name else "uint8")
    assert image["axes"][0]["units"] == "m"
    assert image["axes"][0]["scale"] == pytest.approx(3.3724e-6)
    assert em["beam_energy"] == 5.0
    assert em["magnification"] == pytest.approx(120.0)
    assert em["acquisition_mode"] == "SEM" and em["detector"] == "ETD"
    assert em["dwell_time"] == pytest.approx(1e-5)
    assert em["microscope"].startswith("Helios NanoLab")


def test_fei_helios_bad_floats_does_not_crash(shared_data: Path) -> None:
    out = extract(shared_data / "rosettasciio/tiff/FEI-Helios-navcam-with-no-IRBeam-bad-floats.tif")
    image, em = out["image"], out["electron_microscopy"]
    assert (image["width"], image["height"]) == (768, 551)
    assert "beam_energy" not in em  # HV = "notafloat"
    assert em["detector"] == "Nav-Cam" and em["microscope"].startswith("Helios")


def test_olympus_sis_jpeg_tiff(shared_data: Path) -> None:
    path = shared_data / "rosettasciio/tiff/olympus_SIS.tif"
    assert MicroscopyExtractor().claims(path) and not ImageExtractor().claims(path)
    out = extract(path)
    image = out["image"]
    assert image["n_signals"] == 2  # an RGB preview and the calibrated image
    assert image["dtype"] == "uint16" and (image["width"], image["height"]) == (112, 101)
    assert image["axes"][0]["scale"] == pytest.approx(2.3928e-11)
    assert out["electron_microscopy"]["magnification"] == 600000.0


def test_every_real_tiff_has_exactly_one_owner(shared_data: Path) -> None:
    for path in sorted((shared_data / "rosettasciio/tiff").iterdir()):
        claims = [MicroscopyExtractor().claims(path), ImageExtractor().claims(path)]
        if path.suffix == ".zip":
            assert claims == [False, False]  # Connect unpacks archives
        else:
            assert claims == [True, False], path.name
