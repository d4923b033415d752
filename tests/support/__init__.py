"""Shared test helpers: databases, clocks and a ready coach."""
