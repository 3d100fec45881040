"""Bots: E2E-capable users of the appservice, each with its own device, crypto store and sync loop."""
