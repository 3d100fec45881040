"""The `messenger` command line (click)."""
