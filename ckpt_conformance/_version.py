"""The kit's version (the distribution's, single-sourced here)."""

__version__ = "0.1.0"
