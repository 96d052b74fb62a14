"""Database work of a request carrying many costly ``__regex`` parameters (issue 20, part 3).

    DATABASE_URL=... DEBUG=true .venv/bin/python bench/regex_requests.py [--patterns 40]

Sends ``?a0__regex=(?:.{1,255}){1,255}0&a1__regex=...`` (``--patterns`` parameters, each a
pattern PostgreSQL takes 100-200 ms to compile) through the real middleware stack (the test
client) to the sign-in page, an admin change list and ``/healthz``, anonymously and signed
in as a superuser, and prints per request the status, the queries run and the time.
Anonymous requests should run no query at all; a signed-in one at most a few (the patterns
are checked under a statement timeout, and too many are refused before any is).
It creates one superuser (``bench-regex``) in the database it is given: run it on your own.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

PATHS = ["/admin/login/", "/admin/fraud/fraudalert/", "/healthz"]


def attack_query(patterns: int) -> dict[str, str]:
    return {f"a{i}__regex": f"(?:.{{1,255}}){{1,255}}{i}" for i in range(patterns)}


def measure(client: Client, path: str, params: dict[str, str]) -> tuple[int, int, float]:
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(path, params)
        elapsed = time.perf_counter() - start
    return response.status_code, len(queries), elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patterns", type=int, default=40)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    params = attack_query(args.patterns)
    size = sum(len(k) + len(v) + 2 for k, v in params.items())
    print(f"{args.patterns} patterns, query string ~{size:,} bytes")

    user = get_user_model().objects.filter(username="bench-regex").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench-regex", "bench-regex@example.com", None)
    for who in ("anonymous", "superuser"):
        client = Client(raise_request_exception=False)
        if who == "superuser":
            client.force_login(user)
        for path in PATHS:
            status, queries, elapsed = measure(client, path, params)
            print(f"{who:10} GET {path:28} -> {status}  {queries:4d} queries  {elapsed * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
