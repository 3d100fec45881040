"""Stores: the only place with queries. Each function takes the connection of the caller's transaction."""
