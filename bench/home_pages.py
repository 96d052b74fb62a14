"""The home page per role at scale: median time and queries of GET /admin/ for each role.

Run on a COPY of a generate_data database (never on the shared one: this creates or
resets the demo logins in it):

    createdb -T bo_scale h_home_scale
    DEBUG=true DATABASE_URL=postgres://.../h_home_scale python manage.py migrate
    DEBUG=true DATABASE_URL=postgres://.../h_home_scale python bench/home_pages.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from customer_ops.demo import ensure_staff  # noqa: E402
from customer_ops.models import Customer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    users = ensure_staff("bench-password-123")
    print(f"customers: {Customer.objects.count():,}")
    print(f"{'role':<12} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
    for name in ["agent", "lead", "fraud", "legal", "compliance", "analyst", "admin"]:
        client = Client()
        client.force_login(users[name])
        client.get("/admin/", HTTP_HOST="127.0.0.1")  # warm caches
        times, queries = [], 0
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get("/admin/", HTTP_HOST="127.0.0.1")
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.status_code
            queries = len(captured)
        times.sort()
        p90 = times[int(len(times) * 0.9) - 1]
        print(f"{name:<12} {statistics.median(times):>10.1f} {p90:>8.1f} {queries:>8}")


if __name__ == "__main__":
    main()
