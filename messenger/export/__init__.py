"""Client-side chat export: a patient's (or practice's) own chats, decrypted where the keys are,
written as HTML, plain text and JSON with their attachments (docs/export.md)."""
