"""Alembic environment: migrate the connection the registry hands over (never a new engine)."""

from alembic import context

from verdict.registry._tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
