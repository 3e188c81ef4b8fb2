"""Plain images through Pillow: the ``image`` block, from the header only.

The reading is :func:`hub.formats.images.describe_image`.  TIFFs that carry
microscope metadata belong to the microscopy extractor
(:func:`hub.formats.microscopy.is_microscope_tiff`); this extractor takes every
other TIFF, so each TIFF is described by exactly one of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.extractors.base import ExtractionContext, Extractor
from hub.extractors.microscopy import MicroscopyExtractor
from hub.formats.images import describe_image
from hub.formats.microscopy import is_microscope_tiff

_TIFF_SUFFIXES = (".tif", ".tiff")


class ImageExtractor(Extractor):
    """Plain images (png, jpeg, gif, bmp, webp, and TIFFs without microscope metadata).

    Fills ``image``: ``width``, ``height``, ``shape``, ``dtype``, ``mode``,
    ``format`` and ``axes`` (in pixels, or in inches/centimetres when the file
    states a physical resolution).
    """

    name = "image"
    description = "Plain images (png, jpeg, gif, bmp, webp, non-microscope tiff) via Pillow"
    provides = ("image",)
    patterns = ("*.png", "*.jpg", "*.jpeg", "*.gif", "*.bmp", "*.tif", "*.tiff", "*.webp")
    imports = ("PIL",)
    extra = None

    def claims(self, path: Path) -> bool:
        """Image files by name, except the TIFFs the microscopy extractor claims."""
        if not super().claims(path):
            return False
        if path.suffix.lower() in _TIFF_SUFFIXES and MicroscopyExtractor.available():
            return not is_microscope_tiff(path)
        return True

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Describe the one image in ``group`` (see :func:`describe_image`)."""
        return {"image": describe_image(group[0])}
