"""The service API under load, against ``make serve`` (issue 22), all in one run:

* the order-time decision at 1 and 8 connections, beside ``/healthz`` of the same server and
  ``/api/v1/ping`` (a token check answering ``{}``: the framework's floor), with wrk;
* ticket intake (open a ticket with its first message) at 8 connections, with wrk;
* batch ingest of login history over HTTP (5,000-row batches) beside a raw COPY of the same
  rows, alternately.

    # a production server on the generate_data database (a copy: the bench writes tickets and logs)
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 TRUSTED_PROXY_COUNT=1 ALLOW_SINGLE_DATABASE_ROLE=1 \\
        DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_bench make serve PORT=8000 &
    # the load, same environment (it creates its API client in that database)
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=... .venv/bin/python bench/api_load.py \\
        [--url http://127.0.0.1:8000] [--duration 10] [--batches 5]

wrk comes from Debian (``apt-get install wrk``); each run is one thread, keep-alive
connections, bounded by ``--duration``. Every request carries the header a TLS proxy adds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from api.models import ApiClient  # noqa: E402
from api.services import api_client_create, api_token_issue  # noqa: E402
from bench.log_ingest import _items, _raw_copy  # noqa: E402
from customer_ops.context import SYSTEM  # noqa: E402
from customer_ops.models import Customer  # noqa: E402
from customer_ops.scopes import API_SCOPES  # noqa: E402

PROXY = "X-Forwarded-Proto: https"
CLIENT = "bench-api"


def token() -> str:
    client = ApiClient.objects.filter(name=CLIENT).first() or api_client_create(
        name=CLIENT, scopes=list(API_SCOPES), actor=SYSTEM
    )
    ApiClient.objects.filter(pk=client.pk).update(rate_limit_per_minute=100_000_000, enabled=True)
    return api_token_issue(client=client, actor=SYSTEM)[1]


def wrk(url: str, *, connections: int, duration: int, headers: list[str], script: str | None = None) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    codes = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "errors": int(codes.group(1)) if codes else 0}


def post_json(url: str, body: dict, bearer: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json", "X-Forwarded-Proto": "https"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--size", type=int, default=5000)
    args = parser.parse_args()

    bearer = token()
    auth = [f"Authorization: Bearer {bearer}", PROXY]
    customer = Customer.objects.filter(status="ACTIVE").order_by("pk").values_list("pk", flat=True).first()
    print(f"customers: {Customer.objects.count():,}; decision for customer {customer}\n")

    rows = []
    for connections in (1, 8):
        for name, path, headers in (
            ("/healthz", "/healthz", [PROXY]),
            ("ping (token only)", "/api/v1/ping", auth),
            ("decision", f"/api/v1/customers/{customer}/decision?service=FOOD", auth),
        ):
            result = wrk(args.url + path, connections=connections, duration=args.duration, headers=headers)
            rows.append((name, connections, result))
    healthz = {c: r["rps"] for n, c, r in rows if n == "/healthz"}
    print("| endpoint | conns | req/s | % of /healthz | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|---|---|")
    for name, connections, r in rows:
        share = 100 * r["rps"] / healthz[connections]
        figures = f"{r['rps']:,.0f} | {share:.0f}% | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']}"
        print(f"| {name} | {connections} | {figures} |")

    body = {
        "customer_id": customer,
        "service_type": "FOOD",
        "category": "DELIVERY",
        "subject": "Late order",
        "description": "Ordered an hour ago, nothing yet.",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n')
        lua.write('wrk.headers["Content-Type"] = "application/json"\n')
    intake = wrk(args.url + "/api/v1/tickets", connections=8, duration=args.duration, headers=auth, script=lua.name)
    os.unlink(lua.name)
    print(
        f"\nticket intake (8 connections): {intake['rps']:,.0f} req/s, p50 {intake['p50']:.1f} ms, "
        f"p99 {intake['p99']:.1f} ms, non-2xx {intake['errors']}"
    )

    ids = list(Customer.objects.filter(status="ACTIVE").values_list("pk", flat=True)[:50_000])
    api_times, copy_times = [], []
    for _ in range(args.batches):
        items = _items(ids, args.size)
        started = time.perf_counter()
        assert post_json(args.url + "/api/v1/logs/logins", {"items": items}, bearer) == 201
        api_times.append(time.perf_counter() - started)
        copy_times.append(_raw_copy(items))
    api_rate = args.size / statistics.median(api_times)
    copy_rate = args.size / statistics.median(copy_times)
    print(
        f"\nlogin history ingest, {args.batches} batches of {args.size:,}: API {api_rate:,.0f} rows/s, "
        f"raw COPY {copy_rate:,.0f} rows/s: {100 * api_rate / copy_rate:.0f}% of COPY"
    )


if __name__ == "__main__":
    main()
