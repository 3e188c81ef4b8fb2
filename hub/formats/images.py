"""Plain images through Pillow: size, mode, format and resolution, without decoding pixels.

``Image.open`` only reads the header, so a large image costs no more than a small
one.  :func:`describe_image` is what the image extractor records and what the
Intake image reader builds its axes from.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from hub.exceptions import ExtractionError

#: Pillow mode -> numpy dtype name of one channel.
_MODE_DTYPES = {
    "1": "bool",
    "L": "uint8",
    "LA": "uint8",
    "La": "uint8",
    "P": "uint8",
    "PA": "uint8",
    "RGB": "uint8",
    "RGBA": "uint8",
    "RGBa": "uint8",
    "RGBX": "uint8",
    "CMYK": "uint8",
    "YCbCr": "uint8",
    "LAB": "uint8",
    "HSV": "uint8",
    "I": "int32",
    "F": "float32",
    "I;16": "uint16",
    "I;16L": "uint16",
    "I;16B": "uint16",
    "I;16N": "uint16",
}

# TIFF tags
_X_RESOLUTION, _Y_RESOLUTION, _RESOLUTION_UNIT = 282, 283, 296


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if number > 0 and number != float("inf") else None


def _resolution(image: Any) -> tuple[float, float, str] | None:
    """Pixels per unit along x and y and the unit ("in" or "cm"), or None.

    TIFF: XResolution/YResolution with ResolutionUnit (2 inch, 3 cm; 1 means
    "no absolute unit").  JPEG: the JFIF density (unit 1 inch, 2 cm; 0 is an
    aspect ratio only).  Other formats: Pillow's ``dpi`` (PNG ``pHYs`` in metres
    becomes dpi).
    """
    tags = getattr(image, "tag_v2", None)
    if image.format == "TIFF" and tags is not None:
        x, y = _positive(tags.get(_X_RESOLUTION)), _positive(tags.get(_Y_RESOLUTION))
        unit = tags.get(_RESOLUTION_UNIT, 2)
        if x and y and unit in (2, 3):
            return x, y, "in" if unit == 2 else "cm"
        return None
    info = image.info
    if info.get("jfif_unit") == 2:
        density = info.get("jfif_density") or (0, 0)
        x, y = _positive(density[0]), _positive(density[1])
        return (x, y, "cm") if x and y else None
    if info.get("jfif_unit") == 0:
        return None
    dpi = info.get("dpi")
    if dpi:
        x, y = _positive(dpi[0]), _positive(dpi[1])
        if x and y:
            return x, y, "in"
    return None


def _axes(width: int, height: int, image: Any) -> list[dict[str, Any]]:
    resolution = _resolution(image)
    if resolution is None:
        return [
            {"name": "y", "size": height, "scale": 1.0, "offset": 0.0, "units": "px"},
            {"name": "x", "size": width, "scale": 1.0, "offset": 0.0, "units": "px"},
        ]
    x_per_unit, y_per_unit, unit = resolution
    return [
        {"name": "y", "size": height, "scale": 1.0 / y_per_unit, "offset": 0.0, "units": unit},
        {"name": "x", "size": width, "scale": 1.0 / x_per_unit, "offset": 0.0, "units": unit},
    ]


def describe_image(path: Path) -> dict[str, Any]:
    """The ``image`` block of a Pillow-readable image, from its header only.

    Parameters
    ----------
    path
        The image file.

    Returns
    -------
    dict
        ``width``, ``height``, ``shape`` (``[h, w]`` or ``[h, w, channels]``),
        ``dtype``, ``mode``, ``format``, ``axes`` and, for animations and
        multi-page files, ``n_frames``.

    Raises
    ------
    ExtractionError
        When Pillow cannot identify the file, or when the image is larger than
        Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = (int(n) for n in image.size)
                bands = len(image.getbands())
                block: dict[str, Any] = {
                    "width": width,
                    "height": height,
                    "shape": [height, width] if bands == 1 else [height, width, bands],
                    "mode": image.mode,
                    "format": image.format or path.suffix.lstrip(".").upper(),
                    "axes": _axes(width, height, image),
                }
                if image.mode in _MODE_DTYPES:
                    block["dtype"] = _MODE_DTYPES[image.mode]
                n_frames = int(getattr(image, "n_frames", 1) or 1)
                if n_frames > 1:
                    block["n_frames"] = n_frames
                return block
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ExtractionError(
            f"{path.name} looks like a decompression bomb and was not opened: {exc} "
            f"The limit is PIL.Image.MAX_IMAGE_PIXELS = {Image.MAX_IMAGE_PIXELS} pixels; "
            "raise it only for files you trust."
        ) from exc
    except UnidentifiedImageError as exc:
        raise ExtractionError(
            f"Pillow cannot identify {path.name} as an image (png, jpeg, gif, bmp, tiff, webp): {exc}"
        ) from exc


__all__ = ["describe_image"]
