"""Tests of hub/extractors/image.py: the ``image`` block of plain images (reading the header:
tests/formats/test_images.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

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
