"""Array files: which NetCDF a file is, from its first bytes.

A NetCDF-4 file is an HDF5 file (xarray reads it with ``h5netcdf``); a classic
NetCDF file starts with ``CDF`` (xarray reads it with ``scipy``).  The array
extractor and the Intake array reader both choose the engine by
:func:`netcdf_engine`.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

#: The first bytes of every HDF5 file (so of every NetCDF-4 file).
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: The first bytes of a classic NetCDF file (32-bit and 64-bit offsets).
NETCDF3_SIGNATURES = (b"CDF\x01", b"CDF\x02")


def read_signature(source: str | Path | IO[bytes]) -> bytes:
    """The first 8 bytes of a file.

    Parameters
    ----------
    source
        A path, or a binary file object (read from its position, which is kept).

    Returns
    -------
    bytes
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as fh:
            return fh.read(8)
    pos = source.tell()
    head = source.read(8)
    source.seek(pos)
    return bytes(head)


def netcdf_engine(head: bytes) -> str | None:
    """The xarray engine that reads a NetCDF file starting with ``head``.

    Parameters
    ----------
    head
        The file's first bytes (:func:`read_signature`).

    Returns
    -------
    str or None
        ``h5netcdf`` for NetCDF-4 (HDF5), ``scipy`` for classic NetCDF, None for
        neither.
    """
    if head.startswith(HDF5_SIGNATURE):
        return "h5netcdf"
    if head.startswith(NETCDF3_SIGNATURES):
        return "scipy"
    return None


__all__ = ["HDF5_SIGNATURE", "NETCDF3_SIGNATURES", "netcdf_engine", "read_signature"]
