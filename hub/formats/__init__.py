"""File-format readers, shared by the extractors and the Intake readers.

One module per format family: :mod:`.tables` (CSV/TSV, Excel, Parquet, JSON lines),
:mod:`.images` (what Pillow reads), :mod:`.microscopy` (DigitalMicrograph, EMD and
microscope TIFFs through RosettaSciIO) and :mod:`.arrays` (NetCDF and HDF5
signatures).  A reader here reads a file and returns plain Python, pandas or
RosettaSciIO values; the extractors (:mod:`hub.extractors`) turn them into record
blocks, the Intake readers (:mod:`hub.catalog`) into pandas and xarray objects.
Optional libraries are imported when a file is read, never when a module is.
"""
