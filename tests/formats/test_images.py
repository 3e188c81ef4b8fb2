"""Tests of hub/formats/images.py: what Pillow reads from an image's header."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from hub.exceptions import ExtractionError
from hub.formats.images import describe_image


def test_tiff_resolution_in_centimetres(tmp_path: Path) -> None:
    path = tmp_path / "c.tif"
    Image.new("I;16", (6, 3)).save(path, resolution=100.0, resolution_unit="cm")
    image = describe_image(path)
    assert image["dtype"] == "uint16" and image["format"] == "TIFF"
    assert [a["units"] for a in image["axes"]] == ["cm", "cm"]
    assert image["axes"][0]["scale"] == pytest.approx(0.01)


def test_animated_gif_counts_frames(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [Image.new("L", (8, 8), 80 * i) for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    image = describe_image(path)
    assert image["n_frames"] == 3 and image["shape"] == [8, 8]


@pytest.mark.parametrize("side", [12, 20])  # a warning (<2x the limit) and an error (>2x)
def test_decompression_bomb_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side: int) -> None:
    path = tmp_path / "bomb.png"
    Image.new("L", (side, side)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ExtractionError, match=r"decompression bomb.*MAX_IMAGE_PIXELS"):
        describe_image(path)


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    path.write_text("hello")
    with pytest.raises(ExtractionError, match=r"cannot identify fake\.png"):
        describe_image(path)
