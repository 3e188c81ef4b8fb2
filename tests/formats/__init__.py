"""Tests of hub.formats: the file-format readers the extractors and the Intake readers share."""
