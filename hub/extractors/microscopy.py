"""Electron microscopy files: DigitalMicrograph, EMD and microscope TIFFs, as record blocks.

The reading is :mod:`hub.formats.microscopy`'s (RosettaSciIO underneath, with
its metadata mapping applied and the instrument settings read); this module
turns the main signal of a file into the ``image`` and ``electron_microscopy``
blocks.  A TIFF is the microscopy extractor's exactly when
:func:`~hub.formats.microscopy.is_microscope_tiff` says so; the image extractor
takes the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.extractors.base import ExtractionContext, Extractor
from hub.formats.microscopy import (
    close_signals,
    instrument_metadata,
    is_dm_spectrum_image,
    is_microscope_tiff,
    main_signal,
    read_signals,
    signal_axes,
)

_TIFF_SUFFIXES = (".tif", ".tiff")


# -- the image block ------------------------------------------------------------


def _dtype_name(dtype: Any) -> str:
    names = getattr(dtype, "names", None)
    if names:  # RosettaSciIO's RGB(A) structured dtypes
        bits = 8 * int(dtype[names[0]].itemsize)
        return f"{''.join(n.lower() for n in names)}{bits}"
    return str(dtype)


def _image_block(signal: Mapping[str, Any], n_signals: int) -> dict[str, Any]:
    data = signal["data"]
    axes = signal_axes(signal)
    flip = is_dm_spectrum_image(signal)
    block: dict[str, Any] = {
        "shape": [int(n) for n in data.shape],
        "dtype": _dtype_name(data.dtype),
        "axes": [{k: v for k, v in axis.items() if k != "navigate"} for axis in axes],
    }
    signal_sizes = [axis["size"] for axis in axes if axis["navigate"] == flip]
    if len(signal_sizes) == 2:
        block["height"], block["width"] = signal_sizes
    block["n_signals"] = n_signals
    return block


# -- the extractor --------------------------------------------------------------


class MicroscopyExtractor(Extractor):
    """DigitalMicrograph (dm3/dm4), EMD (Berkeley, FEI Velox) and microscope TIFFs.

    Fills ``image`` (``shape``, ``dtype``, ``axes``, ``width``/``height`` of a
    2-D signal, ``n_signals``) and ``electron_microscopy`` (``beam_energy`` in
    keV, ``magnification``, ``acquisition_mode``, ``detector``, ``microscope``,
    ``signal_type``, ``camera_length`` in mm, ``dwell_time`` and
    ``exposure_time`` in s) for the main signal of the file.  Data are opened
    lazily: only metadata is read.
    """

    name = "microscopy"
    description = "Electron microscopy files (dm3/dm4, EMD, FEI/Zeiss/Olympus TIFF) via RosettaSciIO"
    provides = ("image", "electron_microscopy")
    patterns = ("*.dm3", "*.dm4", "*.emd", "*.tif", "*.tiff")
    imports = ("rsciio",)
    extra = "microscopy"

    def claims(self, path: Path) -> bool:
        """DM and EMD files by name; a TIFF only when it carries microscope tags."""
        if not super().claims(path):
            return False
        if path.suffix.lower() in _TIFF_SUFFIXES:
            return is_microscope_tiff(path)
        return True

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Describe the main signal of the one file in ``group``.

        Raises
        ------
        ExtractionError
            When RosettaSciIO cannot read the file.
        MissingDependencyError
            When rosettasciio (or a package a file variant needs) is missing.
        """
        path = group[0]
        signals = read_signals(path)
        try:
            signal, metadata = main_signal(signals)
            original = signal.get("original_metadata") or {}
            record: dict[str, Any] = {"image": _image_block(signal, len(signals))}
            em = instrument_metadata(metadata, original)
            if em:
                record["electron_microscopy"] = em
            return record
        finally:
            close_signals(signals)


__all__ = ["MicroscopyExtractor"]
