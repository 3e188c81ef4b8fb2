"""Tests of the cdi_nn study."""
