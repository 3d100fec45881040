"""Room keys for the export: from an Element key-export file or the server-side key backup."""
