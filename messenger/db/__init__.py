"""Our own database (never Synapse's): schema, engine, migrations and the stores that query it."""
