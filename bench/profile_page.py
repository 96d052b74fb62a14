"""Where a page's server time goes: pyinstrument over repeated GETs through Django's test
client, production-like settings (DEBUG off, templates cached), as the given role.

    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1,testserver DATABASE_URL=... \\
        .venv/bin/python bench/profile_page.py /admin/tickets/ticket/ --role agent [--runs 30]

Prints pyinstrument's call tree (time per frame summed over the runs), or with --cprofile N
cProfile's N costliest functions on a CPU clock, then the Django process's CPU per request
over as many unprofiled runs (the database's CPU not included).
Not a test.
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

from customer_ops.demo import ensure_staff  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--role", default="agent")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--cprofile", type=int, metavar="N", help="print cProfile's N costliest functions on a CPU clock instead"
    )
    args = parser.parse_args()
    user = ensure_staff("profile-bench-password-1")[args.role]
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    # Signed in with the second factor, as in production (django-otp's session key).
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="profile", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    for _ in range(3):  # warm-up: template and URL caches, connections
        response = client.get(args.path, secure=True)
        assert response.status_code == 200, response.status_code
    samples = []
    for _ in range(args.runs):  # unprofiled: the process's CPU per request
        started = time.process_time()
        client.get(args.path, secure=True)
        samples.append(1000 * (time.process_time() - started))
    cpu_ms, median_ms = statistics.mean(samples), statistics.median(samples)
    if args.cprofile:  # CPU only: the database's waits do not count
        profile = cProfile.Profile(time.process_time)
        profile.runcall(lambda: [client.get(args.path, secure=True) for _ in range(args.runs)])
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(args.cprofile)
        stats.sort_stats("cumulative").print_stats(args.cprofile)
    else:
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(args.runs):
                client.get(args.path, secure=True)
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    print(
        f"{args.path} as {args.role}: {cpu_ms:.1f} ms CPU per request, median {median_ms:.1f}"
        " (Django process, unprofiled)"
    )


if __name__ == "__main__":
    main()
