"""Bots: E2E-capable appservice users, each with its own device, crypto store and sync loop."""
