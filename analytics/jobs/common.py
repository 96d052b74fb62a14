"""What the analytics jobs share: the day range they get, the result they return, and the
SQL of a customer-day's orders of one service."""

from __future__ import annotations

from dataclasses import dataclass

from customer_ops.dates import UTC, DayRange, day_range

__all__ = ["UTC", "DayRange", "JobResult", "day_range", "service_orders"]


@dataclass(frozen=True)
class JobResult:
    job: str
    rows: int  # rows the computation produced
    written: int  # rows inserted or changed
    deleted: int = 0

    def __str__(self) -> str:
        text = f"{self.job}: {self.rows} rows computed, {self.written} written"
        return text + (f", {self.deleted} stale removed" if self.deleted else "")


def service_orders(service: str, day: str = "d") -> str:
    """SQL: the orders of the service named by the SQL expression ``service`` (a service
    type, or ``ALL_SERVICES`` for every service) on the customer_daily_analytics row ``day``."""
    return f"""CASE {service} WHEN 'FOOD' THEN {day}.food_orders WHEN 'PARCEL' THEN {day}.parcel_orders
                              WHEN 'RIDE' THEN {day}.ride_orders ELSE {day}.total_orders END"""
