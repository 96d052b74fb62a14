"""Python function calls per request of the pages ``bench/serve_load.py`` measures, through
Django's test client with production settings: a figure that does not move with the
machine's load, beside the process's CPU per request, which does.

    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1,testserver DEBUG=false DATABASE_URL=... \\
        .venv/bin/python bench/page_calls.py [--runs 10] [--only queue]

Use it to compare two commits on the same database: the calls show what a change removed
even on a noisy machine (serve_load's CPU per request varied by a fifth between identical
runs on a shared 2-CPU VM). Not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from serve_load import all_pages  # noqa: E402

from customer_ops.demo import ensure_staff  # noqa: E402


def signed_in(user) -> Client:
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="profile", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # signed in with the second factor
    session.save()
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", default="", help="pages whose label contains this")
    args = parser.parse_args()
    staff = ensure_staff("profile-bench-password-1")
    clients: dict[str, Client] = {}
    for label, role, path in all_pages():
        if not role or args.only not in label:
            continue
        client = clients.setdefault(role, signed_in(staff[role]))
        for _ in range(5):  # warm-up: template and URL caches, connections
            assert client.get(path, secure=True).status_code == 200, (label, path)
        profile = cProfile.Profile()
        profile.runcall(lambda c=client, p=path: [c.get(p, secure=True) for _ in range(args.runs)])
        calls = pstats.Stats(profile).total_calls / args.runs
        samples = []
        for _ in range(20):
            started = time.process_time()
            client.get(path, secure=True)
            samples.append(1000 * (time.process_time() - started))
        print(f"{label:24s} {calls:9,.0f} calls per request   CPU median {statistics.median(samples):5.1f} ms")


if __name__ == "__main__":
    main()
