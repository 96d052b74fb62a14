"""Requests per second of a page served by ``make serve`` (production settings), with wrk.

    # 1. a production server on a database with the demo data
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_serve make migrate
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_serve \\
        .venv/bin/python manage.py seed_demo --allow-production --password 'a-strong-one-2026'
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=... make serve PORT=8000 &
    # 2. the load (same environment as the server: it creates its bench user in that database)
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=... \\
        .venv/bin/python bench/serve_load.py [--url http://127.0.0.1:8000] [--path /admin/tickets/ticket/] \\
        [--role lead] [--duration 20] [--connections 8]

It creates (or reuses) a staff user ``bench_serve_<role>`` with a confirmed TOTP device,
signs in through the real sign-in form over HTTP (password and TOTP code, with the header a
TLS proxy adds), checks the page answers 200 with that session, then runs ``wrk`` (``apt-get
install wrk``; one thread, ``--connections`` keep-alive connections, ``--duration`` seconds,
bounded) with the session cookie and prints wrk's report: requests/s and the latency
distribution (50% is the median, 99% the 99th percentile). Run it on the server's machine
(127.0.0.1), nothing else busy.
"""

from __future__ import annotations

import argparse
import http.cookies
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django_otp.oath import TOTP  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from customer_ops.roles import Role  # noqa: E402

PROXY = {"X-Forwarded-Proto": "https"}  # what the TLS proxy in front of gunicorn adds


def bench_user(role: Role) -> tuple[str, str, TOTPDevice]:
    password = secrets.token_urlsafe(16)
    user, _ = get_user_model().objects.get_or_create(username=f"bench_serve_{role.key}", defaults={"is_staff": True})
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=role.value)])
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    return user.username, password, device


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _cookies(response) -> dict[str, str]:
    """The cookies a response sets (kept by hand: they are Secure, and this client talks plain
    HTTP to 127.0.0.1 as the proxy would, so a cookie jar would never send them back)."""
    jar = http.cookies.SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def sign_in(base: str, username: str, password: str, device: TOTPDevice) -> str:
    """The ``Cookie`` header of a signed-in session (password and TOTP code, through the form)."""
    opener = urllib.request.build_opener(_NoRedirect)
    login = base + "/admin/login/"
    with opener.open(urllib.request.Request(login, headers=PROXY)) as response:
        cookies = _cookies(response)
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {
        "csrfmiddlewaretoken": token,
        "username": username,
        "password": password,
        "otp_device": device.persistent_id,
        "otp_token": f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():0{device.digits}d}",
        "next": "/admin/",
    }
    secure_origin = "https" + base.removeprefix("http")  # the browser's origin behind the proxy
    headers = {**PROXY, "Origin": secure_origin, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    request = urllib.request.Request(login, data=urllib.parse.urlencode(form).encode(), headers=headers)
    try:
        opener.open(request)
        raise SystemExit("Sign-in failed: the form answered 200 (wrong password or code?)")
    except urllib.error.HTTPError as answer:  # the redirect after a successful sign-in
        if answer.code != 302:
            raise
        cookies.update(_cookies(answer))
    if "sessionid" not in cookies:
        raise SystemExit("Sign-in failed (no session cookie): check the user and the server's settings.")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--path", default="/admin/tickets/ticket/")
    parser.add_argument("--role", default="lead", choices=[r.key for r in Role])
    parser.add_argument("--duration", type=int, default=20, help="seconds of load")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    role = next(r for r in Role if r.key == args.role)
    username, password, device = bench_user(role)
    cookie = sign_in(args.url, username, password, device)
    check = urllib.request.Request(args.url + args.path, headers={**PROXY, "Cookie": cookie})
    with urllib.request.urlopen(check) as response:
        body = response.read()
        assert response.status == 200 and b'id="user-tools"' in body, "the page did not answer signed in"
    print(f"{args.path} as {username}: 200, {len(body):,} bytes; wrk for {args.duration}s, {args.connections} conns")
    subprocess.run(
        [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(args.connections),
            "--duration",
            f"{args.duration}s",
            "--timeout",
            "30s",
            "--latency",
            "--header",
            f"Cookie: {cookie}",
            "--header",
            "X-Forwarded-Proto: https",
            args.url + args.path,
        ],
        check=True,
    )


if __name__ == "__main__":
    main()
