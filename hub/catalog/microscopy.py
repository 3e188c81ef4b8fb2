"""Electron microscopy files to xarray through RosettaSciIO: DigitalMicrograph, EMD, microscope TIFFs.

RosettaSciIO reads the file lazily (``lazy=True``: metadata now, pixels as a dask
array; :mod:`hub.formats.microscopy`); the signal becomes a
:class:`xarray.DataArray` whose dimensions are the file's calibrated axes
(``offset + scale * i`` in the file's units, e.g. ``nm`` or ``eV``), with the
instrument metadata the microscopy extractor finds (beam energy in keV,
magnification, detector, ...) in ``attrs``.
"""

from __future__ import annotations

from typing import Any

from intake.readers import datatypes

from hub.catalog.base import HubReader, axes_coords
from hub.catalog.datatypes import EMD, DigitalMicrograph
from hub.formats.microscopy import (
    instrument_metadata,
    main_signal,
    mapped_metadata,
    read_signals,
    signal_axes,
)


def signal_to_dataarray(signal: dict[str, Any], name: str | None = None) -> Any:
    """A RosettaSciIO signal dict as a :class:`xarray.DataArray` with physical axes.

    Parameters
    ----------
    signal
        One item of a RosettaSciIO ``file_reader`` result (``data``, ``axes``,
        ``metadata``, ``original_metadata``, ``mapping``).
    name
        The array's name (default: the signal's title).
    """
    import xarray as xr

    data = signal["data"]
    raw_axes = signal_axes(signal)
    if len(raw_axes) != data.ndim:  # an uncalibrated file: plain index axes
        raw_axes = [{"name": f"axis{i}", "size": n} for i, n in enumerate(data.shape)]
    if getattr(data.dtype, "names", None):  # RGB(A) as a structured dtype: a trailing band axis
        import dask.array as da

        fields = list(data.dtype.names)
        data = da.stack([data[f] for f in fields], axis=-1)  # type: ignore[no-untyped-call]
        raw_axes = [*raw_axes, {"name": "band", "size": len(fields)}]
    dims, coords = axes_coords(raw_axes)
    if dims and dims[-1].startswith("band") and getattr(signal["data"].dtype, "names", None):
        coords[dims[-1]] = list(signal["data"].dtype.names)
    metadata = mapped_metadata(signal)
    attrs: dict[str, Any] = {}
    title = (metadata.get("General") or {}).get("title")
    if title:
        attrs["title"] = str(title)
    signal_type = (metadata.get("Signal") or {}).get("signal_type")
    if signal_type:
        attrs["signal_type"] = str(signal_type)
    for key, value in instrument_metadata(metadata, signal.get("original_metadata") or {}).items():
        attrs[key] = value
    units = {"beam_energy": "keV", "camera_length": "mm", "dwell_time": "s", "exposure_time": "s"}
    attrs["units_of_attrs"] = {k: v for k, v in units.items() if k in attrs}
    return xr.DataArray(data, dims=dims, coords=coords, name=name or attrs.get("title"), attrs=attrs)


class MicroscopyReader(HubReader):
    """A microscopy file (dm3, dm4, emd, microscope TIFF) as a lazily loaded :class:`xarray.DataArray`.

    Parameters of ``read``
    ----------------------
    signal
        Which signal of a multi-signal file (an index); default the main one
        (the first with instrument metadata, as the microscopy extractor picks).
    **kwargs
        Passed to RosettaSciIO's ``file_reader``.
    """

    implements = {DigitalMicrograph, EMD, datatypes.TIFF}
    imports = {"matterhub", "rosettasciio", "xarray", "dask"}
    output_instance = "xarray:DataArray"
    func = "rsciio.digitalmicrograph:file_reader"

    def _read(self, data: datatypes.FileData, signal: int | None = None, **kwargs: Any) -> Any:
        path = self._local(data)
        signals = read_signals(path, **kwargs)
        if signal is None:
            chosen, _ = main_signal(signals)
        else:
            if not -len(signals) <= signal < len(signals):
                raise IndexError(
                    f"{path.name} holds {len(signals)} signal(s); signal={signal} is not one of them"
                )
            chosen = signals[signal]
        out = signal_to_dataarray(chosen)
        out.attrs["source"] = self._url(data)
        out.attrs["n_signals"] = len(signals)
        return out
