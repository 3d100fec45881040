"""The authenticated HTTP admin API for the insurer's back office (OpenAPI described)."""
