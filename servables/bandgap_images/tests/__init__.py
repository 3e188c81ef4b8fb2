"""Tests of the bandgap_images study."""
