"""Stores: the only place with queries. Each function takes the caller's transaction."""
