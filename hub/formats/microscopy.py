"""Electron microscopy files through RosettaSciIO: DigitalMicrograph, EMD and microscope TIFFs.

RosettaSciIO (``rsciio``, the I/O layer of HyperSpy) returns, for every signal
in a file, the data (lazily, as a dask array), the calibrated axes, a small
``metadata`` tree, the file's ``original_metadata`` and a ``mapping`` from
original keys to HyperSpy metadata keys that HyperSpy normally applies when it
builds a signal.  This module reads the signals (:func:`read_signals`), applies
that mapping itself (:func:`mapped_metadata`: each entry guarded, so one
unparsable value such as the ``"notafloat"`` high tension of a broken FEI TIFF
only loses that value), picks the signal a file is about (:func:`main_signal`)
and reads its calibrated axes (:func:`signal_axes`) and instrument settings
(:func:`instrument_metadata`, falling back to the original metadata where the
mapping has nothing: detector names, exposure times, FEI magnification).

The microscopy extractor turns these into the ``image`` and
``electron_microscopy`` blocks of a record; the Intake microscopy reader into an
:class:`xarray.DataArray`.  TIFFs are shared with the image extractor:
:func:`is_microscope_tiff` peeks at the TIFF tags with tifffile (no pixel data)
and the microscopy extractor claims a TIFF exactly when it is true.
"""

from __future__ import annotations

import contextlib
import copy
import math
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from hub.exceptions import ExtractionError, MissingDependencyError

#: TIFF tags that only microscope software writes (code: what writes it).
MICROSCOPE_TIFF_TAGS: dict[int, str] = {
    34118: "Zeiss SmartSEM (CZ_SEM)",
    34680: "FEI / Thermo Fisher (FEI_SFEG)",
    34682: "FEI / Thermo Fisher (FEI_HELIOS)",
    33471: "Olympus SIS (OlympusINI)",
    33560: "Olympus SIS (OlympusSIS)",
    37706: "TVIPS camera",
    # Gatan DigitalMicrograph calibration tags of exported TIFFs (units, scales)
    65003: "Gatan DigitalMicrograph",
    65004: "Gatan DigitalMicrograph",
    65009: "Gatan DigitalMicrograph",
    65010: "Gatan DigitalMicrograph",
}
#: ``Make`` tag values (prefixes) of microscope cameras whose TIFFs RosettaSciIO calibrates.
MICROSCOPE_TIFF_MAKES: tuple[str, ...] = ("JEOL Ltd.", "Olympus Soft Imaging Solutions")
#: How many TIFF pages :func:`is_microscope_tiff` looks at (Olympus SIS keeps its tag on page 2).
_PAGES_PEEKED = 8

_TIFF_SUFFIXES = (".tif", ".tiff")
_READERS = {
    ".dm3": "digitalmicrograph",
    ".dm4": "digitalmicrograph",
    ".emd": "emd",
    ".tif": "tiff",
    ".tiff": "tiff",
}


# -- which TIFFs are microscope TIFFs -------------------------------------------


def is_microscope_tiff(path: Path) -> bool:
    """Whether ``path`` is a TIFF that carries microscope metadata.

    Looks only at the tags of the first pages (FEI/Thermo, Zeiss, Olympus SIS,
    TVIPS, JEOL, Gatan), never at pixel data.  Returns False for a file that is
    not a TIFF, that tifffile cannot parse, or when tifffile is not installed.
    The answer is cached per (path, size, modification time), because both the
    microscopy and the image extractor ask.

    Parameters
    ----------
    path
        The file to look at.

    Returns
    -------
    bool
        True when the microscopy extractor should describe the file.
    """
    path = Path(path)
    if path.suffix.lower() not in _TIFF_SUFFIXES:
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    return _peek_tiff_tags(str(path.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=1024)
def _peek_tiff_tags(path: str, size: int, mtime_ns: int) -> bool:
    try:
        import tifffile
    except ImportError:
        return False
    try:
        with tifffile.TiffFile(path) as tif:
            for i, page in enumerate(tif.pages):
                if i >= _PAGES_PEEKED:
                    break
                tags = getattr(page, "tags", None)
                if tags is None:  # a TiffFrame: no tags of its own
                    continue
                if any(code in tags for code in MICROSCOPE_TIFF_TAGS):
                    return True
                make = tags.get(271)
                if make is not None and str(make.value).startswith(MICROSCOPE_TIFF_MAKES):
                    return True
    except Exception:  # not a TIFF tifffile can parse: not ours
        return False
    return False


# -- plain values ---------------------------------------------------------------


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None (bad floats, empty strings, lists)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _positive(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None


def _text(value: Any) -> str | None:
    """A non-empty stripped string, or None (DM stores empty strings as ``[]``)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip().strip("\x00").strip()
    return value or None


def _slug(key: str) -> str:
    return re.sub(r"\W", "_", key.strip())


def _get(tree: Any, path: str) -> Any:
    """The value at dotted ``path`` in nested dicts, or None.

    A path component matches a key exactly or after spaces and punctuation
    become underscores: RosettaSciIO writes some mapping paths the way HyperSpy's
    ``DictionaryTreeBrowser`` spells them (``Microscope_Info`` for ``Microscope Info``).
    """
    node = tree
    for key in path.split("."):
        if not isinstance(node, Mapping):
            return None
        if key in node:
            node = node[key]
            continue
        slug = _slug(key)
        match = next((k for k in node if isinstance(k, str) and _slug(k) == slug), None)
        if match is None:
            return None
        node = node[match]
    return node


_T = TypeVar("_T")


def _first(*values: _T | None) -> _T | None:
    return next((v for v in values if v is not None), None)


# -- RosettaSciIO ---------------------------------------------------------------


def read_signals(path: Path, **kwargs: Any) -> list[dict[str, Any]]:
    """Every signal of a microscopy file, lazily (metadata, and the data as dask arrays).

    A Velox EMD file whose spectrum images need the optional ``sparse`` package gives
    its images alone when ``sparse`` is missing.

    Parameters
    ----------
    path
        A ``.dm3``, ``.dm4``, ``.emd``, ``.tif`` or ``.tiff`` file; the suffix chooses
        the RosettaSciIO reader.
    **kwargs
        Passed to the reader's ``file_reader`` (``lazy`` defaults to True).

    Returns
    -------
    list of dict
        RosettaSciIO's signal dicts: ``data``, ``axes``, ``metadata``,
        ``original_metadata``, ``mapping``.  :func:`close_signals` releases the files
        their lazy data hold open.

    Raises
    ------
    ExtractionError
        When the suffix is not one of these, or RosettaSciIO cannot read the file or
        finds no signal in it.
    MissingDependencyError
        When rosettasciio (or a package a file variant needs) is not installed.
    """
    kind = _READERS.get(path.suffix.lower())
    if kind is None:
        raise ExtractionError(
            f"{path.name}: microscopy files are read from {', '.join(sorted(_READERS))} files, "
            f"not {path.suffix!r}."
        )
    try:
        if kind == "digitalmicrograph":
            from rsciio.digitalmicrograph import file_reader
        elif kind == "emd":
            from rsciio.emd import file_reader
        else:
            from rsciio.tiff import file_reader
    except ImportError as exc:
        raise MissingDependencyError(
            f"Reading {path.name} needs rosettasciio ({exc}). "
            "Please run pip install 'matterhub[microscopy]' to install it."
        ) from exc
    kwargs.setdefault("lazy", True)
    try:
        signals: list[dict[str, Any]] = list(file_reader(str(path), **kwargs))
    except ModuleNotFoundError as exc:
        if kind != "emd" or "select_type" in kwargs:
            raise
        # Velox spectrum images need the optional ``sparse`` package: read the images.
        try:
            signals = list(file_reader(str(path), **kwargs, select_type="image"))
        except Exception:
            signals = []
        if not signals:
            raise MissingDependencyError(
                f"Reading {path.name} needs {exc.name or 'an optional package'}, which is not "
                f"installed. Please run pip install {exc.name or 'sparse'} to install it."
            ) from exc
    except Exception as exc:
        raise ExtractionError(f"RosettaSciIO could not read {path.name} as a {kind} file: {exc}") from exc
    if not signals:
        raise ExtractionError(f"RosettaSciIO found no signal in {path.name}.")
    return signals


def mapped_metadata(signal: Mapping[str, Any]) -> dict[str, Any]:
    """A signal's ``metadata`` with RosettaSciIO's ``mapping`` applied, as HyperSpy does.

    Each mapping entry is applied on its own: an entry whose conversion fails
    (a bad float, a missing sub-key) is skipped, so the other values survive.

    Parameters
    ----------
    signal
        A signal dict of :func:`read_signals`.

    Returns
    -------
    dict
        A new metadata tree (``General``, ``Signal``, ``Acquisition_instrument``, ...).
    """
    metadata: dict[str, Any] = copy.deepcopy(dict(signal.get("metadata") or {}))
    original = signal.get("original_metadata") or {}
    for source, spec in (signal.get("mapping") or {}).items():
        if not (isinstance(spec, tuple) and len(spec) == 2):
            continue
        target, convert = spec
        value = _get(original, source)
        if value is None:
            continue
        if convert is not None:
            try:
                value = convert(value)
            except Exception:
                continue
        if value is None:
            continue
        node = metadata
        *parents, leaf = str(target).split(".")
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[leaf] = value
    return metadata


def main_signal(signals: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The signal a file is about, with its mapped metadata.

    The first signal with instrument metadata, else the first signal (an
    Olympus SIS TIFF starts with an uncalibrated RGB preview; a Velox EMD starts
    with its HAADF image).

    Parameters
    ----------
    signals
        What :func:`read_signals` returned (not empty).

    Returns
    -------
    tuple of dict
        The signal, and its :func:`mapped_metadata`.
    """
    mapped = [mapped_metadata(s) for s in signals]
    for signal, metadata in zip(signals, mapped):
        if metadata.get("Acquisition_instrument"):
            return signal, metadata
    return signals[0], mapped[0]


# -- axes -----------------------------------------------------------------------


def signal_axes(signal: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The calibrated axes of a signal, in the order of its array's dimensions.

    Parameters
    ----------
    signal
        A signal dict of :func:`read_signals`.

    Returns
    -------
    list of dict
        One per axis the file describes: ``name`` (``axis<i>`` when it has none),
        ``size``, and ``scale``, ``offset`` and ``units`` where the file gives them
        (finite numbers; units other than ``<undefined>``), then ``navigate``
        (whether it is a navigation axis, as RosettaSciIO reads it).  An
        uncalibrated file may describe fewer axes than its array has.
    """
    shape = [int(n) for n in signal["data"].shape]
    raw_axes = list(signal.get("axes") or [])
    order = [
        int(a["index_in_array"]) if a.get("index_in_array") is not None else i for i, a in enumerate(raw_axes)
    ]
    raw_axes = [a for _, a in sorted(zip(order, raw_axes), key=lambda pair: pair[0])]
    axes: list[dict[str, Any]] = []
    for i, raw in enumerate(raw_axes):
        size = int(raw.get("size", shape[i] if i < len(shape) else 0))
        axis: dict[str, Any] = {"name": str(raw.get("name") or f"axis{i}"), "size": size}
        scale, offset = _number(raw.get("scale", 1.0)), _number(raw.get("offset", 0.0))
        if scale is not None:
            axis["scale"] = scale
        if offset is not None:
            axis["offset"] = offset + 0.0  # -0.0 -> 0.0
        units = _text(raw.get("units"))
        if units is not None and units != "<undefined>":
            axis["units"] = units
        axis["navigate"] = bool(raw.get("navigate", False))
        axes.append(axis)
    return axes


def is_dm_spectrum_image(signal: Mapping[str, Any]) -> bool:
    """Whether a signal is a DigitalMicrograph spectrum image.

    RosettaSciIO reads those with the energy axis first and turns them into
    spectra afterwards (its ``to_spectrum``), so their ``navigate`` flags are the
    other way round.

    Parameters
    ----------
    signal
        A signal dict of :func:`read_signals`.
    """
    original = signal.get("original_metadata") or {}
    tags = _get(original, "ImageList.TagGroup0.ImageTags")
    if not isinstance(tags, Mapping) or signal["data"].ndim <= 2:
        return False
    return _get(tags, "Meta Data.Format") == "Spectrum image" or "spim" in tags


# -- instrument settings --------------------------------------------------------


def _dm_fallbacks(original: Mapping[str, Any]) -> dict[str, Any]:
    tags = _get(original, "ImageList.TagGroup0.ImageTags")
    if not isinstance(tags, Mapping):
        return {}
    return {
        "detector": _first(
            _text(_get(tags, "Acquisition.Device.Name")),
            _text(_get(tags, "DataBar.Device Name")),
            _text(_get(tags, "EDS.Detector Info.Detector type")),
        ),
        "microscope": _first(
            _text(_get(tags, "Session Info.Microscope")),
            _text(_get(tags, "Microscope Info.Name")),
        ),
        "exposure_time": _first(
            _positive(_get(tags, "Acquisition.Parameters.High Level.Exposure (s)")),
            _positive(_get(tags, "EELS.Acquisition.Exposure (s)")),
            _positive(_get(tags, "EDS.Acquisition.Exposure (s)")),
        ),
    }


def _fei_tiff_fallbacks(original: Mapping[str, Any]) -> dict[str, Any]:
    fei = original.get("fei_metadata")
    if not isinstance(fei, Mapping):
        return {}
    # xT's magnification: the width of the reference canvas over the horizontal field width.
    canvas = _positive(_get(fei, "Image.MagCanvasRealWidth"))
    hfw = _first(
        _positive(_get(fei, "Scan.HorFieldsize")),
        _positive(_get(fei, "EBeam.HFW")),
        _positive(_get(fei, "IBeam.HFW")),
    )
    magnification = float(f"{canvas / hfw:.4g}") if canvas and hfw else None
    hv = _first(_positive(_get(fei, "EBeam.HV")), _positive(_get(fei, "Beam.HV")))
    return {
        "detector": _text(_get(fei, "Detectors.Name")),
        "microscope": _text(_get(fei, "System.SystemType")),
        "magnification": magnification,
        "beam_energy": hv / 1000.0 if hv else None,
        "dwell_time": _first(_positive(_get(fei, "Scan.Dwelltime")), _positive(_get(fei, "EScan.Dwell"))),
        "acquisition_mode": "SEM",
    }


def _velox_fallbacks(original: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(original.get("BinaryResult"), Mapping):
        return {}
    index = _text(_get(original, "BinaryResult.DetectorIndex"))
    detector = _get(original, f"Detectors.Detector-{index}") if index is not None else None
    detector = detector if isinstance(detector, Mapping) else {}
    detector_type = _text(detector.get("DetectorType"))
    mode = {"ImagingDetector": "TEM", "ScanningDetector": "STEM"}.get(detector_type or "")
    if mode is None:
        mode = {"1": "TEM", "2": "STEM"}.get(_text(_get(original, "Optics.OperatingMode")) or "")
    return {
        "detector": _first(
            _text(_get(original, "BinaryResult.Detector")), _text(detector.get("DetectorName"))
        ),
        "microscope": _first(
            _text(_get(original, "Instrument.InstrumentModel")),
            _text(_get(original, "Instrument.InstrumentClass")),
        ),
        "magnification": _positive(_get(original, "Optics.NominalMagnification")),
        "exposure_time": _positive(detector.get("ExposureTime")),
        "dwell_time": _positive(_get(original, "Scan.DwellTime")),
        "acquisition_mode": mode,
    }


def _prismatic_fallbacks(original: Mapping[str, Any]) -> dict[str, Any]:
    # Berkeley EMD files written by the Prismatic simulator keep E0 in keV.
    return {"beam_energy": _positive(_get(original, "simulation_parameters.E0"))}


_FALLBACKS: tuple[Callable[[Mapping[str, Any]], dict[str, Any]], ...] = (
    _dm_fallbacks,
    _fei_tiff_fallbacks,
    _velox_fallbacks,
    _prismatic_fallbacks,
)


def _detector_name(instrument: Mapping[str, Any]) -> str | None:
    detector = instrument.get("Detector")
    if not isinstance(detector, Mapping):
        return None
    for kind in ("Camera", "EELS", "EDS"):
        sub = detector.get(kind)
        if isinstance(sub, Mapping):
            name = _first(_text(sub.get("name")), _text(sub.get("spectrometer")))
            if name:
                return name
    return _text(detector.get("detector_type"))


def _exposure(instrument: Mapping[str, Any]) -> float | None:
    return _first(
        _positive(_get(instrument, "Detector.Camera.exposure")),
        _positive(_get(instrument, "Detector.EELS.exposure")),
    )


def instrument_metadata(metadata: Mapping[str, Any], original: Mapping[str, Any]) -> dict[str, Any]:
    """The instrument settings of a signal, in MDF's units.

    From the mapped metadata first, else from what the file's own metadata says
    (DigitalMicrograph tags, FEI/Thermo TIFF, Velox and Prismatic EMD).

    Parameters
    ----------
    metadata
        The signal's :func:`mapped_metadata`.
    original
        The signal's ``original_metadata``.

    Returns
    -------
    dict
        Those of ``beam_energy`` (keV), ``magnification``, ``acquisition_mode``
        (``TEM``, ``STEM``, ``SEM``), ``detector``, ``microscope``,
        ``camera_length`` (mm), ``dwell_time`` and ``exposure_time`` (s) and
        ``signal_type`` that the file gives.
    """
    instruments = metadata.get("Acquisition_instrument") or {}
    kind = next((k for k in ("TEM", "SEM") if isinstance(instruments.get(k), Mapping)), None)
    inst: Mapping[str, Any] = (instruments.get(kind) or {}) if kind else {}
    mode = _text(inst.get("acquisition_mode"))
    mapped = {
        "beam_energy": _positive(inst.get("beam_energy")),
        "magnification": _positive(inst.get("magnification")),
        "acquisition_mode": mode.upper() if mode else ("SEM" if kind == "SEM" else None),
        "detector": _detector_name(inst),
        "microscope": _text(inst.get("microscope")),
        "camera_length": _positive(inst.get("camera_length")),
        "dwell_time": _positive(inst.get("dwell_time")),
        "exposure_time": _exposure(inst),
    }
    fallback: dict[str, Any] = {}
    for find in _FALLBACKS:
        for key, value in find(original).items():
            if value is not None:
                fallback.setdefault(key, value)
    block = {k: _first(v, fallback.get(k)) for k, v in mapped.items()}
    block["signal_type"] = _text(_get(metadata, "Signal.signal_type"))
    return {k: v for k, v in block.items() if v is not None}


# -- closing -------------------------------------------------------------------


def close_signals(signals: list[dict[str, Any]]) -> None:
    """Release the files the lazy data of ``signals`` hold open, and empty the list.

    Lazy readers leave h5py files (EMD) and TIFF files open for later reads of the
    pixel data; a caller that reads metadata only closes them with this.

    Parameters
    ----------
    signals
        What :func:`read_signals` returned; their data can no longer be read.
    """
    for signal in signals:
        for handle in _open_handles(signal.get("data")):
            with contextlib.suppress(Exception):
                handle.close()
    signals.clear()


def _open_handles(data: Any) -> Iterator[Any]:
    """Files a lazily read signal keeps open: h5py files (EMD) and TIFF files."""
    graph = getattr(data, "dask", None)
    if graph is None:
        return
    try:
        values = list(dict(graph).values())
    except Exception:
        return
    seen: set[int] = set()
    for value in values:
        # dask tasks hold their arguments: a TiffPageSeries (tifffile) or an h5py Dataset
        for arg in (value, *getattr(value, "args", ())):
            arg = getattr(arg, "value", arg)
            handle = None
            h5file = getattr(arg, "file", None)
            if type(arg).__module__.startswith("h5py") and h5file is not None:
                handle = h5file
            elif type(arg).__module__.startswith("tifffile"):
                handle = getattr(arg, "parent", None)
            if handle is not None and hasattr(handle, "close") and id(handle) not in seen:
                seen.add(id(handle))
                yield handle


__all__ = [
    "MICROSCOPE_TIFF_MAKES",
    "MICROSCOPE_TIFF_TAGS",
    "close_signals",
    "instrument_metadata",
    "is_dm_spectrum_image",
    "is_microscope_tiff",
    "main_signal",
    "mapped_metadata",
    "read_signals",
    "signal_axes",
]
