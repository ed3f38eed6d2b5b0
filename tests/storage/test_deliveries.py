"""The forges' deliveries seen: a second claim of one is refused, a released one may come
again, and a month-old one is forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ick.storage.deliveries import KEEP_DAYS, DeliveryStore
from ick.storage.sqlite import SqliteDatabase

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_a_delivery_is_claimed_once_per_project(db: SqliteDatabase) -> None:
    store = DeliveryStore(db)
    assert await store.claim("hello", "d1", NOW)
    assert not await store.claim("hello", "d1", NOW)
    assert await store.claim("other", "d1", NOW)
    await store.release("hello", "d1")
    assert await store.claim("hello", "d1", NOW)


async def test_deliveries_older_than_the_keep_are_forgotten(db: SqliteDatabase) -> None:
    store = DeliveryStore(db)
    assert await store.claim("hello", "old", NOW)
    later = NOW + timedelta(days=KEEP_DAYS, seconds=1)
    assert await store.claim("hello", "new", later)
    assert await store.claim("hello", "old", later)
