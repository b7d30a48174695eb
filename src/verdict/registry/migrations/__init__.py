"""Alembic migrations of the registry's metadata (run automatically when a registry opens)."""
