"""Requests per second, latency and server CPU per request of the pages people live in,
served by ``make serve`` (production settings).

    # 1. a production server on a database with data (demo or generate_data)
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=... make serve PORT=8000 &
    # 2. the load (same environment as the server: it creates its bench users in that database)
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=... \\
        .venv/bin/python bench/serve_load.py [--url http://127.0.0.1:8000] [--duration 12] \\
        [--connections 1,4] [--pages all | --path /admin/tickets/ticket/ --role lead] \\
        [--only "ticket page,alert queue"] [--rounds 3]

For each role it creates (or reuses) a staff user ``bench_serve_<role>`` with a confirmed TOTP
device and signs in through the real sign-in form over HTTP (password, then the code step,
with the header a TLS proxy adds). Then, page by page and for each number of connections,
it runs a closed loop of keep-alive HTTP/1.1 clients (one thread per connection) for
``--duration`` seconds and prints requests/s, p50/p99 and the **server CPU per request**:
the CPU time (user + system, from /proc) of the gunicorn master listening on the port and
of its workers over the run, workers reaped meanwhile included (their time moves into the
master's children's time), divided by the requests served. CPU per request barely moves
when other processes share the machine; requests/s and latency do. It does move with the
machine's own speed, which on a shared VM changes from minute to minute: each row ends with
the CPU time of a fixed loop run in this process beside it (``reference ms``), so rows are
compared where their references agree (``--rounds`` repeats the pages in turn). To compare two
commits, serve the other from a worktree on another port and give ``--against``: each page
is then loaded on both servers at the same time, and the swings fall on both alike.

``--pages all``: /healthz, the queue (default view), a ticket page, every role's home page,
the alert queue, a trust page, a dispute page and a deletion request page.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookies
import os
import re
import secrets
import subprocess
import sys
import threading
import time
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


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return found.group(1) if found else ""


def sign_in(base: str, username: str, password: str, device: TOTPDevice) -> str:
    """The ``Cookie`` header of a signed-in session: the password form, then the code step."""
    opener = urllib.request.build_opener(_NoRedirect)
    login = base + "/admin/login/"
    with opener.open(urllib.request.Request(login, headers=PROXY)) as response:
        cookies = _cookies(response)
        page = response.read().decode()
    origin = "https" + base.removeprefix("http")

    def post(url: str, form: dict) -> tuple[int, str]:
        headers = {**PROXY, "Origin": origin, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers=headers)
        try:
            opener.open(request)
            return 200, ""
        except urllib.error.HTTPError as answer:
            cookies.update(_cookies(answer))
            return answer.code, answer.headers.get("Location") or ""

    form = {"csrfmiddlewaretoken": csrf_of(page), "username": username, "password": password, "next": "/admin/"}
    status, location = post(login, form)
    if status != 302:
        raise SystemExit(f"{username}: the password step answered {status}")
    step = urllib.parse.urljoin(login, location)
    headers = {**PROXY, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    with opener.open(urllib.request.Request(step, headers=headers)) as response:
        cookies.update(_cookies(response))
        page = response.read().decode()
    code = f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():0{device.digits}d}"
    status, location = post(step, {"csrfmiddlewaretoken": csrf_of(page), "otp_token": code})
    if status != 302 or "login" in location:
        raise SystemExit(f"{username}: the code step answered {status} {location}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# --- the load -------------------------------------------------------------------------


def server_master(port: int) -> int:
    """The gunicorn master listening on ``port`` (from ``ss``: the listener whose parent does
    not listen too)."""
    out = subprocess.run(["ss", "-ltnp", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    pids = {int(p) for p in re.findall(r"pid=(\d+)", out)}
    (master,) = [pid for pid in pids if int(_stat(pid)[1]) not in pids]
    return master


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name (state first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_cpu(port: int) -> float:
    """CPU seconds of the server so far: the master's own and its reaped children's, plus its
    children's not reaped yet (utime, stime, cutime, cstime are fields 14-17 of
    /proc/<pid>/stat). Children are found by parent in /proc, not by the listening socket: a
    worker retiring after ``max_requests`` closes its socket first, and its time, uncounted
    until the master reaps it, once made a run's figure negative."""
    tick = os.sysconf("SC_CLK_TCK")
    master = server_master(port)
    while True:
        before = _stat(master)[11:15]
        children = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = _stat(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):  # gone meanwhile
                continue
            if int(fields[1]) == master:
                children += int(fields[11]) + int(fields[12])
        after = _stat(master)[11:15]
        if after[2:] == before[2:]:  # no child reaped during the scan: counted once
            return (sum(int(f) for f in after) + children) / tick


def load(base: str, path: str, cookie: str, connections: int, seconds: float) -> list[float]:
    """A closed loop of ``connections`` keep-alive clients for ``seconds``: each request's ms."""
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    headers = {**PROXY, "Cookie": cookie} if cookie else dict(PROXY)
    times: list[float] = []
    failures: list[int] = []
    deadline = time.perf_counter() + seconds

    def client():
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine = []
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                failures.append(response.status)
        conn.close()
        times.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"{path}: {len(failures)} answers were not 200 ({failures[:3]})")
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def reference_ms() -> float:
    """The CPU milliseconds of a fixed pure-Python loop in this process, now: the machine's
    speed beside each figure. On a shared VM it moved by half within seconds (318 to 487 ms
    for one loop, 2026-12-07), and the server's CPU per request moves with it; a page's
    figures are comparable where this one is."""
    started, total = time.process_time(), 0
    for i in range(1_000_000):
        total += i * i % 7
    return (time.process_time() - started) * 1000


DELETION_PAGE = "/admin/compliance/datadeletionrequest/{}/change/"


def all_pages() -> list[tuple[str, str, str]]:
    """(label, role key, path) of the pages people live in, samples from the middle of the data."""
    from django.db.models import Max, Min

    from compliance.models import DataDeletionRequest
    from fraud.models import TrustScore
    from tickets.models import Dispute, Ticket

    def middle(model, **filters):
        qs = model.objects.filter(**filters)
        bounds = qs.aggregate(lo=Min("pk"), hi=Max("pk"))
        if bounds["lo"] is None:
            return None
        return qs.filter(pk__gte=(bounds["lo"] + bounds["hi"]) // 2).order_by("pk").values_list("pk", flat=True)[0]

    ticket = middle(Ticket, status__in=["OPEN", "IN_PROGRESS"]) or middle(Ticket)
    pages = [
        ("/healthz", "", "/healthz"),
        ("queue (default view)", "agent", "/admin/tickets/ticket/"),
        ("ticket page", "agent", f"/admin/tickets/ticket/{ticket}/change/"),
    ]
    pages += [(f"{role.key} home", role.key, "/admin/") for role in Role]
    pages.append(("alert queue", "fraud", "/admin/fraud/fraudalert/"))
    for label, role, model, url in [
        ("trust page", "fraud", TrustScore, "/admin/fraud/trustscore/{}/change/"),
        ("dispute page", "legal", Dispute, "/admin/tickets/dispute/{}/change/"),
        (
            "deletion request page",
            "compliance",
            DataDeletionRequest,
            "/admin/compliance/datadeletionrequest/{}/change/",
        ),
    ]:
        pk = middle(model)
        if pk is not None:
            pages.append((label, role, url.format(pk)))
    return pages


def _measure(base: str, path: str, cookie: str, n: int, seconds: float, figures: dict) -> None:
    """``figures[base]``: requests/s and server CPU ms per request of a load on ``base``."""
    port = urllib.parse.urlsplit(base).port
    before, start = server_cpu(port), time.perf_counter()
    times = load(base, path, cookie, n, seconds)
    cpu = server_cpu(port) - before
    figures[base] = (len(times) / (time.perf_counter() - start), cpu * 1000 / len(times))


def compare(url: str, other: str, pages, cookies: dict[str, str], counts: list[int], seconds: float) -> None:
    """Each page on both servers at once: CPU per request of each, and their ratio. The
    session cookies signed in on ``url`` serve on ``other`` too (one database, one key)."""
    print(f"{'page':<24} {'conn':>4}   {'req/s':>7} {'CPU ms/req':>10}   {'req/s':>7} {'CPU ms/req':>10}   ratio")
    print(f"{'':<24} {'':>4}   {url.rsplit(':', 1)[1]:>18}   {other.rsplit(':', 1)[1]:>18}")
    for label, role_key, path in pages:
        cookie = cookies.get(role_key, "")
        for base in (url, other):
            load(base, path, cookie, 1, 1)  # warm-up (and the check that it answers 200)
        for n in counts:
            figures: dict[str, tuple[float, float]] = {}
            threads = [
                threading.Thread(target=_measure, args=(base, path, cookie, n, seconds, figures))
                for base in (url, other)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            (rate, cpu), (other_rate, other_cpu) = figures[url], figures[other]
            print(
                f"{label:<24} {n:>4}   {rate:7.1f} {cpu:10.1f}   {other_rate:7.1f} {other_cpu:10.1f}"
                f"   {cpu / other_cpu:5.2f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--pages", choices=["all", "one"], default="all")
    parser.add_argument("--path", default="/admin/tickets/ticket/", help="with --pages one")
    parser.add_argument("--role", default="lead", choices=[r.key for r in Role], help="with --pages one")
    parser.add_argument("--duration", type=float, default=12, help="seconds of load per figure")
    parser.add_argument("--connections", default="1,4")
    parser.add_argument(
        "--only", default="", help="with --pages all: the pages whose label contains one of these (a,b)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="measure the pages this many times, in turn")
    parser.add_argument(
        "--against",
        metavar="URL",
        help="a second server (another commit, same database and SECRET_KEY): each page is loaded on both "
        "at once, with the given connections each, so that the machine's swings fall on both alike",
    )
    args = parser.parse_args()
    port = urllib.parse.urlsplit(args.url).port
    counts = [int(c) for c in args.connections.split(",")]
    pages = all_pages() if args.pages == "all" else [(args.path, args.role, args.path)]
    if args.only:
        wanted = args.only.split(",")
        pages = [page for page in pages if any(w in page[0] for w in wanted)]
    cookies: dict[str, str] = {}
    for _, role_key, _path in pages:
        if role_key and role_key not in cookies:
            role = next(r for r in Role if r.key == role_key)
            cookies[role_key] = sign_in(args.url, *bench_user(role))
    if args.against:
        compare(args.url, args.against, pages * args.rounds, cookies, counts, args.duration)
        return
    head = "  ".join(f"{n} conn: req/s  p50  p99" for n in counts)
    print(f"{'page':<24} {head}   CPU ms/req   reference ms")
    for label, role_key, path in pages * args.rounds:
        cookie = cookies.get(role_key, "")
        load(args.url, path, cookie, 1, 1)  # warm-up (and the check that it answers 200)
        cells, cpu_ms = [], []
        reference = reference_ms()
        for n in counts:
            before = server_cpu(port)
            start = time.perf_counter()
            times = load(args.url, path, cookie, n, args.duration)
            elapsed = time.perf_counter() - start
            cpu_ms.append((server_cpu(port) - before) * 1000 / len(times))
            cells.append(f"{len(times) / elapsed:12.1f} {pct(times, 0.5):4.0f} {pct(times, 0.99):4.0f}")
        reference = (reference + reference_ms()) / 2  # before and after the page's runs
        figures = " / ".join(f"{c:.1f}" for c in cpu_ms)
        print(f"{label:<24} {'  '.join(cells)}   {figures:>10}   {reference:12.0f}", flush=True)


if __name__ == "__main__":
    main()
