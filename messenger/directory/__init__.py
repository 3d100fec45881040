"""Provider directory: import (FHIR/VZD, CSV), German full-text search, practice settings."""
