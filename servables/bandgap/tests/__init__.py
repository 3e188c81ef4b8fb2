"""Tests of the bandgap study."""
