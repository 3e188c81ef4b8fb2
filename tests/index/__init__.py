"""Tests of hub.index (Discover): query language, engine, access control."""
