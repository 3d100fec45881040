"""Rooms: what kind each room is, and the registry the appservice keeps from event envelopes."""
