"""The platform's orders per UTC hour (``analytics_platform_hourly``, models.PlatformHourly),
kept by triggers on ``orders`` (migration 0069_platform_hourly): the dashboard's live days."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections


def rebuild_platform_hourly(using: str = DEFAULT_DB_ALIAS) -> None:
    """Recompute every hour from the orders: for loads that skip triggers (generate_data)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT public.analytics_platform_hourly_rebuild()")
