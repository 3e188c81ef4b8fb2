"""Tests of hub/extractors/image.py: plain images through Pillow, header only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext
from hub.extractors.image import ImageExtractor
from hub.records.record import BLOCKS


def extract(path: Path) -> dict[str, Any]:
    out = ImageExtractor().extract((path,), ExtractionContext(root=path.parent))
    json.dumps(out, allow_nan=False)
    assert isinstance(out, dict)
    for block, value in out.items():  # fits the record schema
        BLOCKS[block].model_validate(value)
    return out["image"]


def test_png_in_pixels(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.new("RGB", (40, 30), "red").save(path)
    image = extract(path)
    assert (image["width"], image["height"]) == (40, 30)
    assert image["shape"] == [30, 40, 3]
    assert (image["mode"], image["format"], image["dtype"]) == ("RGB", "PNG", "uint8")
    assert image["axes"] == [
        {"name": "y", "size": 30, "scale": 1.0, "offset": 0.0, "units": "px"},
        {"name": "x", "size": 40, "scale": 1.0, "offset": 0.0, "units": "px"},
    ]


def test_grayscale_png_with_dpi(tmp_path: Path) -> None:
    path = tmp_path / "g.png"
    Image.new("L", (5, 4)).save(path, dpi=(254, 254))
    image = extract(path)
    assert image["shape"] == [4, 5]
    assert image["axes"][1]["units"] == "in"
    assert image["axes"][1]["scale"] == pytest.approx(1 / 254, rel=1e-3)


def test_tiff_resolution_in_centimetres(tmp_path: Path) -> None:
    path = tmp_path / "c.tif"
    Image.new("I;16", (6, 3)).save(path, resolution=100.0, resolution_unit="cm")
    image = extract(path)
    assert image["dtype"] == "uint16" and image["format"] == "TIFF"
    assert [a["units"] for a in image["axes"]] == ["cm", "cm"]
    assert image["axes"][0]["scale"] == pytest.approx(0.01)


def test_animated_gif_counts_frames(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [Image.new("L", (8, 8), 80 * i) for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    image = extract(path)
    assert image["n_frames"] == 3 and image["shape"] == [8, 8]


@pytest.mark.parametrize("side", [12, 20])  # a warning (<2x the limit) and an error (>2x)
def test_decompression_bomb_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side: int) -> None:
    path = tmp_path / "bomb.png"
    Image.new("L", (side, side)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ExtractionError, match=r"decompression bomb.*MAX_IMAGE_PIXELS"):
        extract(path)


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    path.write_text("hello")
    with pytest.raises(ExtractionError, match=r"cannot identify fake\.png"):
        extract(path)


def test_claims(tmp_path: Path) -> None:
    extractor = ImageExtractor()
    plain = tmp_path / "plain.tif"
    Image.new("L", (2, 2)).save(plain)
    for name in ("a.png", "b.JPG", "c.jpeg", "d.gif", "e.bmp", "f.webp"):
        assert extractor.claims(tmp_path / name)
    assert extractor.claims(plain)
    assert not extractor.claims(tmp_path / "g.dm3")


def test_dog2_jpeg(shared_data: Path) -> None:
    image = extract(shared_data / "materialsio/image/dog2.jpeg")
    assert (image["width"], image["height"]) == (1910, 1000)
    assert image["shape"] == [1000, 1910, 3]
    assert (image["mode"], image["format"]) == ("RGB", "JPEG")
    assert image["axes"][1] == {
        "name": "x",
        "size": 1910,
        "scale": pytest.approx(1 / 300),
        "offset": 0.0,
        "units": "in",
    }  # JFIF density: 300 dpi
