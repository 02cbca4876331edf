"""The harness version (single source for packaging and traces)."""

__version__ = "0.1.0"
