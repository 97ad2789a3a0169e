"""The package version, in one place (setup.py and results read it)."""

__version__ = "0.1.0"
