"""The homeserver: Synapse's config generated from ours, and Synapse run as a child process."""
