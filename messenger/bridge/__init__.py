"""The application service: inbound transaction server (server.py, inbox.py) apart from the
outbound client to Synapse (homeserver_client.py)."""
