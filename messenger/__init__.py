"""messenger: an end-to-end encrypted health messenger on Matrix for a statutory health insurer."""

__version__ = "0.1.0"
