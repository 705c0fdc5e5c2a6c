"""Fixtures the unit tests share: the store's backends (a SQLite file, a real PostgreSQL)."""

from tests.support.postgres import postgres_server, store_url

__all__ = ["postgres_server", "store_url"]
