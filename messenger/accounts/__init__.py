"""Accounts: creating people on the homeserver and recording their role."""
