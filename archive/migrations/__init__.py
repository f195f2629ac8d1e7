"""The catalog's schema revisions, as Alembic scripts (env.py, versions/); archive/schema.py
runs them. `python -m archive.migrations "message"` writes a new revision (README: Schema
migrations)."""
