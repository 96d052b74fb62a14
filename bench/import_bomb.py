"""A small XLSX with many rows sent to the fraud alert import (issue 20, part 4).

    DATABASE_URL=... DEBUG=true .venv/bin/python bench/import_bomb.py [--rows 300000]

Builds a workbook of ``--rows`` identical alert rows (about 250 KB for 300,000 rows: the
sheet XML deflates about 250-fold; tests/fraud/workbooks.py) and posts it to the alert
import page through the real view (the test client, signed in as a superuser), twice:
once timed, once under ``tracemalloc`` for the peak of Python allocations. Prints the
answer (the form error), the rows openpyxl parsed out of the sheet XML (counted by wrapping
its row parser) and the members read out of the zip. A refusal should come having
parsed at most ``IMPORT_MAX_ROWS + 1`` data rows, or none when the uncompressed size is
refused first; the script also shows the second line of defence alone, the row cap
with the unpacked-size checks lifted. It creates one superuser (``bench-import``) in the
database it is given.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test import Client  # noqa: E402
from openpyxl.worksheet._reader import WorkSheetParser  # noqa: E402

from fraud import conf  # noqa: E402
from tests.fraud.workbooks import repeated_rows, xlsx_bytes  # noqa: E402

HEADERS = ["customer_id", "order_id", "alert_type", "alert_severity", "alert_description", "evidence"]
URL = "/admin/fraud/fraudalert/import/"


class Counters:
    rows = 0
    members: list[str] = []


def counting(parse_row, open_member):
    def parse_row_counted(self, element):
        Counters.rows += 1
        return parse_row(self, element)

    def open_counted(self, name, *args, **kwargs):
        Counters.members.append(getattr(name, "filename", name))
        return open_member(self, name, *args, **kwargs)

    return parse_row_counted, open_counted


def post(client: Client, data: bytes):
    upload = SimpleUploadedFile("alerts.xlsx", data, content_type="application/octet-stream")
    return client.post(URL, {"import_file": upload, "format": "1", "resource": "0"})


def run(client: Client, data: bytes) -> None:
    parse_row, open_member = WorkSheetParser.parse_row, zipfile.ZipFile.open
    WorkSheetParser.parse_row, zipfile.ZipFile.open = counting(parse_row, open_member)
    Counters.rows, Counters.members = 0, []
    try:
        start = time.perf_counter()
        response = post(client, data)
        elapsed = time.perf_counter() - start
        rows, members = Counters.rows, list(Counters.members)
        tracemalloc.start()
        post(client, data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        WorkSheetParser.parse_row, zipfile.ZipFile.open = parse_row, open_member
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    print(f"  answer: {response.status_code} " + " ".join(re.sub(r"<[^>]+>", " ", " ".join(errors)).split())[:300])
    print(f"  sheet rows parsed: {rows:,} (header included); zip members opened: {len(members)}")
    print(f"  time: {elapsed:.2f} s; peak Python allocations: {peak / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    data = xlsx_bytes([], raw_rows=repeated_rows(HEADERS, [7, "", "PAYMENT_FRAUD", "HIGH", "bench", "{}"], args.rows))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    print(f"{args.rows:,} rows: {len(data):,} bytes, {unpacked:,} bytes unpacked")

    user = get_user_model().objects.filter(username="bench-import").first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench-import", "bench-import@example.com", None)
    client = Client(raise_request_exception=False)
    client.force_login(user)

    print("as configured:")
    run(client, data)
    limits = getattr(conf, "IMPORT_MAX_UNPACKED_BYTES", None), getattr(conf, "IMPORT_MAX_COMPRESSION_RATIO", None)
    if limits != (None, None):
        conf.IMPORT_MAX_UNPACKED_BYTES = conf.IMPORT_MAX_COMPRESSION_RATIO = 2**62
        print("without the unpacked-size and ratio checks (the row cap alone):")
        run(client, data)
        conf.IMPORT_MAX_UNPACKED_BYTES, conf.IMPORT_MAX_COMPRESSION_RATIO = limits


if __name__ == "__main__":
    main()
