"""Opening a registry: the migration fast path agrees with Alembic and never skips real work."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from verdict.registry._database import MIGRATIONS, at_head, head_revisions, open_engine


def test_head_revisions_are_alembics_heads():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revisions() == frozenset(ScriptDirectory.from_config(config).get_heads())


def test_only_a_database_stamped_at_head_skips_alembic(registry_url):
    url = registry_url
    blank = create_engine(url)
    assert not at_head(blank)  # new: no alembic_version table yet
    blank.dispose()
    engine = open_engine(url)
    assert at_head(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    assert not at_head(engine)
    engine.dispose()
