"""A soak: simulated staff of every role at once against ``make serve``, then SQL checks that
every write the server accepted is in the database exactly once and nothing else was written.

    # a production server on a COPY of a generate_data database (never the shared one)
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=postgres://.../soak make serve PORT=8011 &
    # the load, in the same environment (it creates its staff users in that database)
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=postgres://.../soak \\
        .venv/bin/python bench/soak.py --url http://127.0.0.1:8011 [--minutes 5] [--agents 12]

Each simulated staff member is a thread with its own signed-in session (password and TOTP
through the real sign-in form, as ``bench/serve_load.py`` does), working in a loop until the
time is up:

* agents: "take next" (POST), open the ticket, reply (POST), open it again, resolve (POST);
* leads: the queue's breached and escalated views, the refund requests, their home page;
* fraud analysts: the alert queue, the trust scores, their home page;
* legal: the disputes, their home page; compliance: the deletion requests, their home page;
* analysts: the dashboard over 30 and 365 days, their home page.

A write is *accepted* when the server answers it with its redirect (302) to the ticket page;
a form error or a refusal answers 200/403/409 and counts as refused. Afterwards, in SQL:
each accepted reply's text (a unique token) is in ``customer_ticket_messages`` exactly once;
each accepted resolution's ticket is RESOLVED by that agent with that text; and the bench
users wrote no AGENT message and resolved no ticket beyond those. Prints requests, errors
(5xx and time-outs), p50/p95/p99 per operation, and accepted vs found writes. Not a test.

Left out: the other roles' writes (refund approval, alert resolution and blocks, dispute
moves, deletion approval); they read their pages here.
"""

from __future__ import annotations

import argparse
import collections
import html
import os
import re
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from bench.serve_load import PROXY, csrf_of, sign_in  # noqa: E402
from customer_ops.roles import Role  # noqa: E402

TIMEOUT = 30  # seconds: a request that takes longer counts as a time-out


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


def staff(role: Role, n: int) -> list[tuple[int, str, str, TOTPDevice]]:
    """``n`` users of ``role`` (created or reset): (id, username, password, device)."""
    out = []
    for i in range(n):
        password = uuid.uuid4().hex
        user, _ = get_user_model().objects.get_or_create(
            username=f"soak_{role.key}_{i}", defaults={"is_staff": True, "first_name": "Soak", "last_name": str(i)}
        )
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role.value)])
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="soak", defaults={"confirmed": True})
        out.append((user.pk, user.username, password, device))
    return out


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = collections.defaultdict(list)
        self.codes: collections.Counter = collections.Counter()
        self.errors: list[str] = []
        self.replies: list[tuple[int, int, str]] = []  # (agent id, ticket pk, text)
        self.resolves: list[tuple[int, int, str]] = []
        self.refused: collections.Counter = collections.Counter()

    def add(self, op: str, ms: float, code: int | str) -> None:
        with self.lock:
            self.times[op].append(ms)
            self.codes[code] += 1
            if code == "timeout" or (isinstance(code, int) and code >= 500):
                self.errors.append(f"{op}: {code}")


class Session:
    def __init__(self, base: str, cookie: str, stats: Stats):
        self.base, self.cookie, self.stats = base, cookie, stats

    def request(self, op: str, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, body, Location) of one request; timed under ``op``."""
        headers = {**PROXY, "Cookie": self.cookie}
        body = None
        if data is not None:
            headers["Origin"] = "https" + self.base.removeprefix("http")
            headers["Referer"] = headers["Origin"] + path
            body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        start = time.perf_counter()
        try:
            with OPENER.open(request, timeout=TIMEOUT) as response:
                status, text, location = response.status, response.read().decode(), ""
        except urllib.error.HTTPError as answer:
            status, text, location = answer.code, answer.read().decode(errors="replace"), answer.headers.get("Location")
        except TimeoutError:
            self.stats.add(op, (time.perf_counter() - start) * 1000, "timeout")
            return 0, "", ""
        self.stats.add(op, (time.perf_counter() - start) * 1000, status)
        return status, text, location or ""


FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')


def form_fields(page: str, action_suffix: str) -> tuple[str, dict] | None:
    """The action and hidden fields of the page's form posting to ``.../<action_suffix>``."""
    for action, inner in FORM.findall(page):
        if action.endswith(action_suffix):
            fields = {}
            for tag in HIDDEN.findall(inner):
                name = re.search(r'name="([^"]+)"', tag)
                value = re.search(r'value="([^"]*)"', tag)
                if name:
                    fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
            return html.unescape(action), fields
    return None


def agent_loop(s: Session, agent_id: int, deadline: float, stats: Stats) -> None:
    queue = "/admin/tickets/ticket/"
    while time.time() < deadline:
        status, page, _ = s.request("queue", queue)
        if status != 200:
            continue
        status, _, location = s.request("take next", queue + "take-next/", {"csrfmiddlewaretoken": csrf_of(page)})
        found = re.search(r"/admin/tickets/ticket/(\d+)/change/", location)
        if status != 302 or not found:
            time.sleep(1)  # nothing to take: wait a little
            continue
        pk = int(found.group(1))
        ticket = f"{queue}{pk}/change/"
        status, page, _ = s.request("ticket page", ticket)
        reply = form_fields(page, f"/{pk}/reply/") if status == 200 else None
        if reply is None:
            continue
        text = f"soak reply {uuid.uuid4()}"
        status, _, location = s.request("reply", reply[0], {**reply[1], "text": text, "attachments": ""})
        if status == 302 and location.endswith(ticket):
            with stats.lock:
                stats.replies.append((agent_id, pk, text))
        else:
            stats.refused["reply"] += 1
        status, page, _ = s.request("ticket page", ticket)
        resolve = form_fields(page, f"/{pk}/resolve/") if status == 200 else None
        if resolve is None:
            stats.refused["resolve (no form)"] += 1
            continue
        text = f"soak resolution {uuid.uuid4()}"
        status, _, location = s.request("resolve", resolve[0], {**resolve[1], "resolution": text})
        if status == 302 and location.endswith(ticket):
            with stats.lock:
                stats.resolves.append((agent_id, pk, text))
        else:
            stats.refused["resolve"] += 1


def reader_loop(s: Session, pages: list[tuple[str, str]], deadline: float) -> None:
    while time.time() < deadline:
        for op, path in pages:
            if time.time() >= deadline:
                return
            s.request(op, path)


def dashboard(days: int) -> str:
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    first, last = today - dt.timedelta(days=days), today - dt.timedelta(days=1)
    return f"/admin/analytics/dashboard/?date_from={first}&date_to={last}"


READERS = {
    Role.LEAD: [
        ("lead: breached view", "/admin/tickets/ticket/?queue=breached"),
        ("lead: escalated view", "/admin/tickets/ticket/?queue=escalated"),
        ("lead: refund requests", "/admin/tickets/refundrequest/"),
        ("home", "/admin/"),
    ],
    Role.FRAUD: [
        ("fraud: alert queue", "/admin/fraud/fraudalert/"),
        ("fraud: trust scores", "/admin/fraud/trustscore/"),
        ("home", "/admin/"),
    ],
    Role.LEGAL: [("legal: disputes", "/admin/tickets/dispute/"), ("home", "/admin/")],
    Role.COMPLIANCE: [("compliance: deletion requests", "/admin/compliance/datadeletionrequest/"), ("home", "/admin/")],
    Role.ANALYST: [
        ("analyst: dashboard 30 days", dashboard(30)),
        ("analyst: dashboard 365 days", dashboard(365)),
        ("home", "/admin/"),
    ],
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def check(stats: Stats, agent_ids: list[int], started) -> list[str]:
    """Accepted writes against what the database holds."""
    lines, problems = [], 0
    with connection.cursor() as cursor:
        texts = [t for _, _, t in stats.replies]
        cursor.execute(
            "SELECT message_text, ticket_id, sender_id, count(*) FROM customer_ticket_messages"
            " WHERE message_text = ANY(%s) GROUP BY 1, 2, 3",
            [texts],
        )
        found = {text: (ticket, sender, n) for text, ticket, sender, n in cursor.fetchall()}
        for agent, pk, text in stats.replies:
            if found.get(text) != (pk, agent, 1):
                problems += 1
        cursor.execute(
            "SELECT count(*) FROM customer_ticket_messages WHERE sender_type = 'AGENT'"
            " AND sender_id = ANY(%s) AND created_at >= %s",
            [agent_ids, started],
        )
        written = cursor.fetchone()[0]
        lines.append(
            f"replies: accepted {len(stats.replies)}, found exactly once {len(stats.replies) - problems},"
            f" agent messages written by the soak's agents {written}"
        )
        bad_resolves = 0
        cursor.execute(
            "SELECT id, resolved_by, resolution, status FROM customer_tickets WHERE id = ANY(%s)",
            [[pk for _, pk, _ in stats.resolves]],
        )
        rows = {pk: (by, text, status) for pk, by, text, status in cursor.fetchall()}
        for agent, pk, text in stats.resolves:
            if rows.get(pk) != (agent, text, "RESOLVED"):
                bad_resolves += 1
        cursor.execute(
            "SELECT count(*) FROM customer_tickets WHERE resolved_by = ANY(%s) AND resolved_at >= %s",
            [agent_ids, started],
        )
        resolved = cursor.fetchone()[0]
        lines.append(
            f"resolutions: accepted {len(stats.resolves)}, found as accepted {len(stats.resolves) - bad_resolves},"
            f" tickets resolved by the soak's agents {resolved}"
        )
        ok = problems == 0 and bad_resolves == 0 and written == len(stats.replies) and resolved == len(stats.resolves)
        lines.append("writes: " + ("every accepted write found exactly once, nothing else" if ok else "MISMATCH"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--others", type=int, default=2, help="staff of each other role")
    args = parser.parse_args()

    from django.utils import timezone

    stats = Stats()
    people = {Role.AGENT: staff(Role.AGENT, args.agents)}
    for role in READERS:
        people[role] = staff(role, args.others + (1 if role == Role.LEAD else 0))
    sessions = {}
    for role, users in people.items():
        for uid, username, password, device in users:
            sessions[uid] = (role, Session(args.url, sign_in(args.url, username, password, device), stats))
    started = timezone.now()
    deadline = time.time() + args.minutes * 60
    threads = []
    for uid, (role, session) in sessions.items():
        if role == Role.AGENT:
            target, targs = agent_loop, (session, uid, deadline, stats)
        else:
            target, targs = reader_loop, (session, READERS[role], deadline)
        threads.append(threading.Thread(target=target, args=targs, daemon=True))
    print(f"{len(threads)} staff ({', '.join(f'{len(u)} {r.key}' for r, u in people.items())}) for {args.minutes} min")
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t0

    total = sum(stats.codes.values())
    timeouts = stats.codes.get("timeout", 0)
    fives = sum(n for code, n in stats.codes.items() if isinstance(code, int) and code >= 500)
    print(f"requests: {total:,} in {seconds:.0f} s ({total / seconds:.1f}/s); 5xx: {fives}; time-outs: {timeouts}")
    print(f"status codes: {dict(sorted(stats.codes.items(), key=str))}; refused writes: {dict(stats.refused)}")
    print(f"{'operation':<32} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for op, values in sorted(stats.times.items()):
        print(
            f"{op:<32} {len(values):>6} {statistics.median(values):>8.0f}"
            f" {percentile(values, 0.95):>8.0f} {percentile(values, 0.99):>8.0f}"
        )
    for line in check(stats, [uid for uid, *_ in people[Role.AGENT]], started):
        print(line)
    for error in stats.errors[:10]:
        print("error:", error)


if __name__ == "__main__":
    main()
