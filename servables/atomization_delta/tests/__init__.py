"""Tests of the atomization_delta study."""
