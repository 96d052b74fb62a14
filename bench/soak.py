"""A soak: simulated staff of every role at once against ``make serve``, then SQL checks that
every write the server accepted is in the database exactly once and nothing else was written.

    # a production server on a COPY of a generate_data database (never the shared one); with one
    # database role for everything (a scratch copy), add ALLOW_SINGLE_DATABASE_ROLE=true to both
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=postgres://.../soak make serve PORT=8011 &
    # the load, in the same environment (it creates its staff users in that database)
    SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 DATABASE_URL=postgres://.../soak \\
        .venv/bin/python bench/soak.py --url http://127.0.0.1:8011 [--minutes 5] [--agents 10] \\
        [--leads 3] [--fraud 3] [--fraud-leads 1] [--legal 2] [--compliance 2] [--analysts 2]

Each simulated staff member is a thread with its own signed-in session (password and TOTP
through the real sign-in form, as ``bench/serve_load.py`` does; the cookies the server sets
afterwards, such as the one carrying "approved" or "refused" messages, are kept and sent back
as a browser does), working in a loop until the time is up. Every write is a POST of the form
the page offers, with the fields a browser would send:

* agents: "take next" (POST), open the ticket, reply (POST), open it again, resolve (POST);
* leads: the approval queue ("Waiting for my approval"), a request's page, approve it for the
  requested amount (POST ``<pk>/approve/``); then the breached and escalated views, the team
  report and their home page;
* fraud analysts and fraud leads: the next alert by "Take next" (POST) on one round, a row of
  the triage queue nobody holds on the next (opening it claims it); on every other alert,
  "Block this customer" (the add form prefilled from the alert: a payment block of every
  service for 7 days, POST); then the alert's "Decide" form (POST ``<pk>/resolve/``);
* legal: the "action required" view, a dispute, its next move (POST ``<pk>/transition/
  investigate/`` for an open one, ``.../resolve/`` for one under investigation or escalated);
* compliance: the pending deletion requests, one request; its identity check if none is
  recorded (POST ``<pk>/verify/``), then "Approve" (POST ``<pk>/approve/``);
* analysts: the dashboard over 30 and 365 days, their home page.

Rows are found as a person finds them, on the list page with its filter, and each picks at
random among the first five (not split between threads with SQL beforehand): so two staff of a
role sometimes act on the same row at once, and the server must refuse the second (a form
error, a "changed since you opened it", a 403; never a 500) without writing it. A role whose
list is empty reads its pages instead; the output says from when. Demo data (300 customers)
runs out of pending refunds, open disputes and deletion requests within a minute; a
generate_data database does not.

A write is *accepted* when the server answers it with its redirect (302) to the row's page
(for a block, to the new block's page). A deletion approval redirects to the request's page
whatever happened, so it is accepted when that page (followed, with the message cookie) shows
the approval's success message. Anything else counts as refused, with the page's error message
as the reason. Afterwards, in SQL, per role:

* replies: the text (a unique token) is in ``customer_ticket_messages`` once, on that ticket, by
  that agent; resolutions: the ticket is RESOLVED by that agent with that text;
* refund approvals: the request is APPROVED by that lead for that amount, with one history row
  saying so (``customer_refund_requests_history``);
* alert resolutions: the alert is resolved with those notes, its review decided by that analyst
  with that outcome, one resolved history row; blocks: one ``customer_blocks`` row with that
  reason (a token), on that customer, by that analyst;
* dispute moves: one history row (``tickets_historicaldispute``) of that status by that lawyer
  (for an investigation, with the note as its reason); a resolution also RESOLVED by them with
  that text;
* identity checks: one audit entry by that officer naming that request and reference;
  deletion approvals: the request is PROCESSING (or COMPLETED) by that officer, with one
  "approved" audit entry;

and the role's soak users wrote nothing else of those kinds since the start: AGENT messages
and resolutions, refund history rows, alert decisions, blocks, dispute history rows, identity
audit entries and processed deletion requests attributed to them equal the accepted ones.
Prints requests, errors (5xx, time-outs, broken connections), p50/p95/p99 per operation,
refusals and their reasons, and per role accepted vs found vs written. Not a test.

Left out: the claims themselves ("take next" on tickets and alerts, opening an alert) are not
checked; leads approve and never reject; nobody raises refunds or disputes, so demo data runs
out; the erasure job does not run (approved requests stay PROCESSING); analysts only read.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import html
import http.cookies
import os
import random
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
from typing import NamedTuple

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
FIRST = 5  # a row is picked among the first FIRST of its list


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


class Write(NamedTuple):
    """One write the server accepted: who, on which row, and what identifies it (a token)."""

    user: int
    pk: int
    detail: tuple


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.t0 = time.time()
        self.times: dict[str, list[float]] = collections.defaultdict(list)
        self.codes: collections.Counter = collections.Counter()
        self.errors: list[str] = []
        self.accepted: dict[tuple[Role, str], list[Write]] = collections.defaultdict(list)
        self.refused: collections.Counter = collections.Counter()  # kind -> n
        self.reasons: collections.Counter = collections.Counter()  # (kind, reason) -> n
        self.refused_rows: list[tuple[str, int, int]] = []  # (kind, pk, user)
        self.lost: collections.Counter = collections.Counter()  # kind -> writes without an answer
        self.not_offered: collections.Counter = collections.Counter()  # kind -> gone before the POST
        self.ran_out: dict[Role, float] = {}  # role -> seconds into the run it first found nothing
        self.idle: collections.Counter = collections.Counter()  # role -> rounds with nothing to do

    def add(self, op: str, ms: float, code: int | str) -> None:
        with self.lock:
            self.times[op].append(ms)
            self.codes[code] += 1
            if isinstance(code, str) or code >= 500:
                self.errors.append(f"{op}: {code}")

    def accept(self, role: Role, kind: str, user: int, pk: int, *detail) -> None:
        with self.lock:
            self.accepted[(role, kind)].append(Write(user, pk, detail))

    def refuse(self, kind: str, user: int, pk: int, status: int, page: str) -> None:
        with self.lock:
            if status == 0:  # a time-out or a broken connection: the write may have happened
                self.lost[kind] += 1
                return
            self.refused[kind] += 1
            self.reasons[(kind, refusal_reason(status, page))] += 1
            self.refused_rows.append((kind, pk, user))

    def nothing_left(self, role: Role) -> None:
        with self.lock:
            self.ran_out.setdefault(role, time.time() - self.t0)
            self.idle[role] += 1


class Session:
    """One signed-in browser: its cookies (the session's, then whatever the server sets)."""

    def __init__(self, base: str, cookie: str, stats: Stats):
        self.base, self.stats = base, stats
        self.cookies = dict(part.split("=", 1) for part in cookie.split("; ") if part)

    def _keep(self, headers) -> None:
        jar = http.cookies.SimpleCookie()
        for header in headers.get_all("Set-Cookie") or []:
            jar.load(header)
        for name, morsel in jar.items():
            if str(morsel["max-age"]) == "0" or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.coded_value

    def request(self, op: str, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, body, Location) of one request; timed under ``op``. Status 0: no answer."""
        headers = {**PROXY, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
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
                self._keep(response.headers)
        except urllib.error.HTTPError as answer:
            status, text, location = answer.code, answer.read().decode(errors="replace"), answer.headers.get("Location")
            self._keep(answer.headers)
        except (urllib.error.URLError, OSError) as error:
            timed_out = isinstance(getattr(error, "reason", error), TimeoutError)
            self.stats.add(op, (time.perf_counter() - start) * 1000, "timeout" if timed_out else "connection error")
            return 0, "", ""
        self.stats.add(op, (time.perf_counter() - start) * 1000, status)
        return status, text, location or ""


# --- reading pages as a browser does ----------------------------------------------------------

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
INPUT = re.compile(r"<input\b([^>]*)>")
TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)
SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
OPTION = re.compile(r"<option\b([^>]*)>(.*?)</option>", re.S)
REFUSAL = re.compile(
    r'<li class="error">(.*?)</li>|class="errorlist[^"]*"[^>]*>\s*<li>(.*?)</li>|class="errornote">(.*?)</p>', re.S
)


def attr(tag: str, name: str) -> str | None:
    found = re.search(rf'(?:^|\s){name}="([^"]*)"', tag)
    return html.unescape(found.group(1)) if found else None


def flag(tag: str, name: str) -> bool:
    return re.search(rf"(?:^|\s){name}(?:[\s=/]|$)", tag) is not None


def form_fields(page: str, action_suffix: str | None) -> tuple[str, dict] | None:
    """The action and the fields a browser would submit of the page's form posting to
    ``.../<action_suffix>`` (``None``: the POST form without an action, which posts to the
    page itself; its action is then "")."""
    for attrs, inner in FORM.findall(page):
        action = attr(attrs, "action")
        if action_suffix is None:
            if action is not None or (attr(attrs, "method") or "").lower() != "post":
                continue
        elif action is None or not action.endswith(action_suffix):
            continue
        fields = {}
        for tag in INPUT.findall(inner):
            name, kind = attr(tag, "name"), (attr(tag, "type") or "text").lower()
            if not name or kind in {"submit", "button", "image", "reset", "file"}:
                continue
            if kind in {"checkbox", "radio"}:
                if flag(tag, "checked"):
                    fields[name] = attr(tag, "value") or "on"
                continue
            fields[name] = attr(tag, "value") or ""
        for tag, text in TEXTAREA.findall(inner):
            if attr(tag, "name"):
                fields[attr(tag, "name")] = html.unescape(text.removeprefix("\r\n").removeprefix("\n"))
        for tag, options in SELECT.findall(inner):
            choices = [(attr(o, "value") or html.unescape(t), flag(o, "selected")) for o, t in OPTION.findall(options)]
            if attr(tag, "name") and choices:
                fields[attr(tag, "name")] = next((v for v, chosen in choices if chosen), choices[0][0])
        return action or "", fields
    return None


def refusal_reason(status: int, page: str) -> str:
    """The error the page shows, ids and times blanked so that alike refusals count together."""
    found = REFUSAL.search(page)
    text = next((g for g in found.groups() if g), "") if found else ""
    text = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
    return f"{status} {re.sub(r'[0-9][0-9:.-]*', '#', text)[:100]}".strip()


def list_rows(page: str, change: str) -> list[tuple[int, str]]:
    """(pk, row html) of a change list's rows, top first; ``change`` is the model's admin path."""
    table = page.split('id="result_list"', 1)[-1]
    out = []
    for row in re.findall(r"<tr\b.*?</tr>", table, re.S):
        found = re.search(rf'href="{re.escape(change)}(\d+)/change/', row)
        if found:
            out.append((int(found.group(1)), row))
    return out


def accepted(status: int, location: str, path: str) -> bool:
    return status == 302 and urllib.parse.urlsplit(location).path == path


def read(s: Session, pages: list[tuple[str, str]], deadline: float) -> None:
    for op, path in pages:
        if time.time() >= deadline:
            return
        s.request(op, path)


# --- the roles --------------------------------------------------------------------------------


def agent_loop(s: Session, role: Role, agent_id: int, deadline: float, stats: Stats) -> None:
    queue = "/admin/tickets/ticket/"
    while time.time() < deadline:
        status, page, _ = s.request("queue", queue)
        if status != 200:
            continue
        status, _, location = s.request("take next", queue + "take-next/", {"csrfmiddlewaretoken": csrf_of(page)})
        found = re.search(r"/admin/tickets/ticket/(\d+)/change/", location)
        if status != 302 or not found:
            stats.nothing_left(role)
            time.sleep(1)  # nothing to take: wait a little
            continue
        pk = int(found.group(1))
        ticket = f"{queue}{pk}/change/"
        status, page, _ = s.request("ticket page", ticket)
        reply = form_fields(page, f"/{pk}/reply/") if status == 200 else None
        if reply is None:
            continue
        text = f"soak reply {uuid.uuid4()}"
        status, page, location = s.request("reply", reply[0], {**reply[1], "text": text, "attachments": ""})
        if accepted(status, location, ticket):
            stats.accept(role, "reply", agent_id, pk, text)
        else:
            stats.refuse("reply", agent_id, pk, status, page)
        status, page, _ = s.request("ticket page", ticket)
        resolve = form_fields(page, f"/{pk}/resolve/") if status == 200 else None
        if resolve is None:
            stats.not_offered["resolution"] += 1
            continue
        text = f"soak resolution {uuid.uuid4()}"
        status, page, location = s.request("resolve", resolve[0], {**resolve[1], "resolution": text})
        if accepted(status, location, ticket):
            stats.accept(role, "resolution", agent_id, pk, text)
        else:
            stats.refuse("resolution", agent_id, pk, status, page)


def pick(s: Session, op: str, path: str, change: str, *, free=lambda row: True) -> int | None:
    """A row of the list at ``path``, as a person picks one: at random among the first few
    (``free``: those a person would pick, e.g. an alert nobody holds). None: the list is empty
    (or did not answer)."""
    status, page, _ = s.request(op, path)
    rows = [pk for pk, row in list_rows(page, change) if free(row)] if status == 200 else []
    return random.choice(rows[:FIRST]) if rows else None


def lead_round(s: Session, role: Role, user: int, stats: Stats) -> bool:
    change = "/admin/tickets/refundrequest/"
    pk = pick(s, "lead: approval queue", change + "?approval=mine", change)
    if pk is None:
        return False
    page_path = f"{change}{pk}/change/"
    status, page, _ = s.request("lead: refund page", page_path)
    form = form_fields(page, f"/{pk}/approve/") if status == 200 else None
    if form is None:  # decided by another lead since the list was read: not offered any more
        stats.not_offered["refund approval"] += 1
        return True
    action, fields = form
    amount = fields.get("approved_amount", "")  # the requested amount, as the form offers it
    status, page, location = s.request("lead: approve refund", action, fields)
    if accepted(status, location, page_path):
        stats.accept(role, "refund approval", user, pk, amount)
    else:
        stats.refuse("refund approval", user, pk, status, page)
    return True


def held(row: str) -> bool:
    """Whether a row of the alert queue shows someone holding the alert ("Held by" column)."""
    cell = re.search(r'class="field-held_by">([^<]*)<', row)
    return cell is not None and html.unescape(cell.group(1)).strip() not in {"", "-"}


def fraud_round(s: Session, role: Role, user: int, stats: Stats, n: int) -> bool:
    queue = "/admin/fraud/fraudalert/"
    if n % 2:
        status, page, _ = s.request("fraud: alert queue", queue)
        if status != 200:
            return True
        token = {"csrfmiddlewaretoken": csrf_of(page)}
        status, _, location = s.request("fraud: take next alert", queue + "take-next/", token)
        found = re.search(r"/admin/fraud/fraudalert/(\d+)/change/", location) if status == 302 else None
        pk = int(found.group(1)) if found else None
    else:
        pk = pick(s, "fraud: alert queue", queue, queue, free=lambda row: not held(row))
    if pk is None:
        return False
    alert = f"{queue}{pk}/change/"
    status, page, _ = s.request("fraud: alert page", alert)  # opening it claims it, if nobody holds it
    if status != 200:
        return True
    held_by_other = "only they may decide it meanwhile" in page
    link = re.search(r'href="(/admin/fraud/block/add/\?[^"]+)"', page)
    if n // 2 % 2 and link and not held_by_other:
        block_form = html.unescape(link.group(1))
        status, page, _ = s.request("fraud: block form", block_form)
        form = form_fields(page, None) if status == 200 else None
        if form is not None:
            until = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
            reason = f"{form[1].get('block_reason', '')} (soak block {uuid.uuid4()})".strip()
            data = {
                **form[1],
                "block_type": "PAYMENT_BLOCK",
                "service_type": "",
                "block_reason": reason,
                "blocked_until_0": f"{until:%Y-%m-%d}",
                "blocked_until_1": f"{until:%H:%M:%S}",
                "auto_unblock": "on",
            }
            status, page, location = s.request("fraud: block", block_form, data)
            made = re.fullmatch(r"/admin/fraud/block/(\d+)/change/", urllib.parse.urlsplit(location).path)
            if status == 302 and made:
                stats.accept(role, "block", user, int(made.group(1)), int(data.get("customer") or 0), reason)
            else:
                stats.refuse("block", user, pk, status, page)
        status, page, _ = s.request("fraud: alert page", alert)  # back to the alert: its new version
        if status != 200:
            return True
    form = form_fields(page, f"/{pk}/resolve/")
    if form is None:  # resolved meanwhile: the page offers no decision
        stats.not_offered["alert resolution"] += 1
        return True
    # Held by someone else: the button is disabled; posting anyway is the stale second tab the
    # server must refuse.
    outcome, code = ("CONFIRMED_FRAUD", "STOLEN_PAYMENT") if n // 2 % 2 else ("FALSE_POSITIVE", "DATA_ERROR")
    notes = f"soak decision {uuid.uuid4()}"
    data = {**form[1], "outcome": outcome, "reason_code": code, "notes": notes}
    status, page, location = s.request("fraud: resolve alert", form[0], data)
    if accepted(status, location, alert):
        stats.accept(role, "alert resolution", user, pk, notes, outcome)
    else:
        stats.refuse("alert resolution", user, pk, status, page)
    return True


def legal_round(s: Session, role: Role, user: int, stats: Stats) -> bool:
    change = "/admin/tickets/dispute/"
    status, page, _ = s.request("legal: action required", change + "action-required/")
    rows = list(dict.fromkeys(int(pk) for pk in re.findall(r'href="/admin/tickets/dispute/(\d+)/change/"', page)))
    if status != 200 or not rows:
        return status != 200
    pk = random.choice(rows[:FIRST])
    page_path = f"{change}{pk}/change/"
    status, page, _ = s.request("legal: dispute page", page_path)
    moves = re.findall(rf"{page_path.removesuffix('change/')}transition/(\w+)/", page) if status == 200 else []
    move = "resolve" if "resolve" in moves else "investigate" if "investigate" in moves else None
    if move is None:
        stats.not_offered["dispute move"] += 1
        return True
    transition = f"{change}{pk}/transition/{move}/"
    status, page, _ = s.request(f"legal: {move} form", transition)
    form = form_fields(page, None) if status == 200 else None
    if form is None:
        return True
    token = f"soak {move} {uuid.uuid4()}"
    data = (
        {**form[1], "resolution": token, "resolution_amount": "0.00"}
        if move == "resolve"
        else {**form[1], "note": token}
    )
    status, page, location = s.request(f"legal: {move} dispute", transition, data)
    if accepted(status, location, page_path):
        stats.accept(role, "dispute move", user, pk, move, token)
    else:
        stats.refuse("dispute move", user, pk, status, page)
    return True


def compliance_round(s: Session, role: Role, user: int, stats: Stats) -> bool:
    change = "/admin/compliance/datadeletionrequest/"
    pk = pick(s, "compliance: pending requests", change + "?request_status__exact=PENDING", change)
    if pk is None:
        return False
    page_path = f"{change}{pk}/change/"
    status, page, _ = s.request("compliance: request page", page_path)
    if status != 200:
        return True
    if "Identity not verified yet" in page:
        verify = f"{change}{pk}/verify/"
        status, form_page, _ = s.request("compliance: verify form", verify)
        form = form_fields(form_page, None) if status == 200 else None
        if form is None:
            return True
        reference = f"soak check {uuid.uuid4()}"
        data = {**form[1], "method": "EMAIL_LINK", "reference": reference}
        status, form_page, location = s.request("compliance: verify identity", verify, data)
        if not accepted(status, location, page_path):
            stats.refuse("identity check", user, pk, status, form_page)
            return True
        stats.accept(role, "identity check", user, pk, reference)
        status, page, _ = s.request("compliance: request page", page_path)
    form = form_fields(page, f"/{pk}/approve/") if status == 200 else None
    if form is None:  # decided since the list was read
        stats.not_offered["deletion approval"] += 1
        return True
    status, page, location = s.request("compliance: approve deletion", form[0], form[1])
    if status == 302:  # the answer is on the request's page, as the browser follows the redirect
        status, page, _ = s.request("compliance: request page", urllib.parse.urlsplit(location).path)
    if status == 200 and re.search(r'<li class="success">[^<]*approved: the erasure job', page):
        stats.accept(role, "deletion approval", user, pk)
    else:
        stats.refuse("deletion approval", user, pk, status, page)
    return True


def dashboard(days: int) -> str:
    today = dt.datetime.now(dt.UTC).date()
    first, last = today - dt.timedelta(days=days), today - dt.timedelta(days=1)
    return f"/admin/analytics/dashboard/?date_from={first}&date_to={last}"


FRAUD_PAGES = [
    ("fraud: alert queue", "/admin/fraud/fraudalert/"),
    ("fraud: trust scores", "/admin/fraud/trustscore/"),
    ("home", "/admin/"),
]
READERS = {
    Role.AGENT: [("queue", "/admin/tickets/ticket/")],
    Role.LEAD: [
        ("lead: breached view", "/admin/tickets/ticket/?queue=breached"),
        ("lead: escalated view", "/admin/tickets/ticket/?queue=escalated"),
        ("lead: team report", "/admin/tickets/ticket/team-report/"),
        ("home", "/admin/"),
    ],
    Role.FRAUD: FRAUD_PAGES,
    Role.FRAUD_LEAD: FRAUD_PAGES,
    Role.LEGAL: [("legal: disputes", "/admin/tickets/dispute/"), ("home", "/admin/")],
    Role.COMPLIANCE: [("compliance: deletion requests", "/admin/compliance/datadeletionrequest/"), ("home", "/admin/")],
    Role.ANALYST: [
        ("analyst: dashboard 30 days", dashboard(30)),
        ("analyst: dashboard 365 days", dashboard(365)),
        ("home", "/admin/"),
    ],
}
ROUNDS = {
    Role.LEAD: lead_round,
    Role.FRAUD: fraud_round,
    Role.FRAUD_LEAD: fraud_round,
    Role.LEGAL: legal_round,
    Role.COMPLIANCE: compliance_round,
}


def staff_loop(s: Session, role: Role, user: int, deadline: float, stats: Stats) -> None:
    """One write round (when the role has writes and its list is not empty), then the role's pages."""
    n = 0
    while time.time() < deadline:
        n += 1
        if role in ROUNDS:
            args = (n,) if ROUNDS[role] is fraud_round else ()
            if not ROUNDS[role](s, role, user, stats, *args):
                stats.nothing_left(role)
        read(s, READERS[role], deadline)


# --- the checks -------------------------------------------------------------------------------


def _one(cursor, sql: str, params: list) -> int:
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def check_replies(cursor, writes: list[Write], users: list[int], started) -> tuple[int, int]:
    cursor.execute(
        "SELECT message_text, count(*), min(ticket_id), min(sender_id) FROM customer_ticket_messages"
        " WHERE ticket_id = ANY(%s) AND message_text = ANY(%s) GROUP BY 1",
        [[w.pk for w in writes], [w.detail[0] for w in writes]],
    )
    rows = {text: rest for text, *rest in cursor.fetchall()}
    found = sum(rows.get(w.detail[0]) == [1, w.pk, w.user] for w in writes)
    written = _one(
        cursor,
        "SELECT count(*) FROM customer_ticket_messages WHERE sender_type = 'AGENT' AND sender_id = ANY(%s)"
        " AND created_at >= %s",
        [users, started],
    )
    return found, written


def check_resolutions(cursor, writes: list[Write], users: list[int], started) -> tuple[int, int]:
    cursor.execute(
        "SELECT id, resolved_by, resolution, status FROM customer_tickets WHERE id = ANY(%s)", [[w.pk for w in writes]]
    )
    rows = {pk: rest for pk, *rest in cursor.fetchall()}
    found = sum(rows.get(w.pk) == [w.user, w.detail[0], "RESOLVED"] for w in writes)
    written = _one(
        cursor,
        "SELECT count(*) FROM customer_tickets WHERE resolved_by = ANY(%s) AND resolved_at >= %s",
        [users, started],
    )
    return found, written


def check_refund_approvals(cursor, writes: list[Write], users: list[int], started) -> tuple[int, int]:
    cursor.execute(
        "SELECT r.id, r.refund_status, r.processed_by, r.approved_amount::text,"
        " (SELECT count(*) FROM customer_refund_requests_history h WHERE h.id = r.id"
        "  AND h.refund_status = 'APPROVED' AND h.history_user_id = r.processed_by AND h.history_date >= %s)"
        " FROM customer_refund_requests r WHERE r.id = ANY(%s)",
        [started, [w.pk for w in writes]],
    )
    rows = {pk: rest for pk, *rest in cursor.fetchall()}
    found = sum(rows.get(w.pk) == ["APPROVED", w.user, w.detail[0], 1] for w in writes)
    written = _one(
        cursor,
        "SELECT count(*) FROM customer_refund_requests_history WHERE history_user_id = ANY(%s) AND history_date >= %s",
        [users, started],
    )
    return found, written


def check_alert_resolutions(cursor, writes: list[Write], users: list[int], started) -> tuple[int, int]:
    cursor.execute(
        "SELECT a.id, a.is_resolved, a.resolution_notes, v.decided_by_id, v.outcome,"
        " (SELECT count(*) FROM fraud_historicalfraudalert h WHERE h.id = a.id AND h.is_resolved"
        "  AND h.history_user_id = v.decided_by_id AND h.history_date >= %s)"
        " FROM customer_fraud_alerts a LEFT JOIN fraud_alert_reviews v ON v.alert_id = a.id WHERE a.id = ANY(%s)",
        [started, [w.pk for w in writes]],
    )
    rows = {pk: rest for pk, *rest in cursor.fetchall()}
    found = sum(rows.get(w.pk) == [True, w.detail[0], w.user, w.detail[1], 1] for w in writes)
    written = _one(
        cursor,
        "SELECT count(*) FROM fraud_alert_reviews WHERE decided_by_id = ANY(%s) AND decided_at >= %s",
        [users, started],
    )
    return found, written


def check_blocks(cursor, writes: list[Write], users: list[int], started) -> tuple[int, int]:
    cursor.execute(
        "SELECT block_reason, count(*), min(id), min(blocked_by_id), min(customer_id) FROM customer_blocks"
        " WHERE customer_id = ANY(%s) AND block_reason = ANY(%s) GROUP BY 1",
        [[w.detail[0] for w in writes], [w.detail[1] for w in writes]],
    )
    rows = {reason: rest for reason, *rest in cursor.fetchall()}
    found = sum(rows.get(w.detail[1]) == [1, w.pk, w.user, w.detail[0]] for w in writes)
    written = _one(
        cursor,
        "SELECT count(*) FROM customer_blocks WHERE blocked_by_id = ANY(%s) AND created_at >= %s",
        [users, started],
    )
    return found, written


def check_dispute_moves(cursor, writes: list[Write], users: list[int], started) -> tuple[int, int]:
    pks = [w.pk for w in writes]
    cursor.execute(
        "SELECT id, dispute_status, history_user_id, history_change_reason FROM tickets_historicaldispute"
        " WHERE id = ANY(%s) AND history_date >= %s",
        [pks, started],
    )
    history = cursor.fetchall()
    cursor.execute(
        "SELECT id, dispute_status, resolved_by, resolution FROM customer_disputes WHERE id = ANY(%s)", [pks]
    )
    rows = {pk: rest for pk, *rest in cursor.fetchall()}
    found = 0
    for w in writes:
        move, token = w.detail
        if move == "investigate":
            found += sum(h == (w.pk, "INVESTIGATING", w.user, token) for h in history) == 1
        else:
            once = sum(h[:3] == (w.pk, "RESOLVED", w.user) for h in history) == 1
            found += once and rows.get(w.pk) == ["RESOLVED", w.user, token]
    written = _one(
        cursor,
        "SELECT count(*) FROM tickets_historicaldispute WHERE history_user_id = ANY(%s) AND history_date >= %s",
        [users, started],
    )
    return found, written


def check_identity_checks(cursor, writes: list[Write], users: list[int], started) -> tuple[int, int]:
    cursor.execute(
        "SELECT id, request_id FROM customer_data_deletion_requests WHERE id = ANY(%s)", [[w.pk for w in writes]]
    )
    request_ids = dict(cursor.fetchall())
    cursor.execute(
        "SELECT actor_id, action_reason FROM customer_audit_log WHERE action_field = 'request.identity_verification'"
        " AND actor_id = ANY(%s) AND created_at >= %s",
        [users, started],
    )
    entries = cursor.fetchall()
    found = 0
    for w in writes:
        mine = [r for r in entries if f"ref {w.detail[0]})" in r[1]]
        found += len(mine) == 1 and mine[0][0] == w.user and mine[0][1].startswith(f"{request_ids.get(w.pk)}:")
    return found, len(entries)


def check_deletion_approvals(cursor, writes: list[Write], users: list[int], started) -> tuple[int, int]:
    cursor.execute(
        "SELECT r.id, r.request_status IN ('PROCESSING', 'COMPLETED'), r.processed_by,"
        " (SELECT count(*) FROM customer_audit_log a WHERE a.customer_id = r.customer_id"
        "  AND a.action_field = 'request_status' AND a.new_value = 'PROCESSING' AND a.actor_id = r.processed_by"
        "  AND a.action_reason LIKE '%%' || r.request_id || ': approved%%' AND a.created_at >= %s)"
        " FROM customer_data_deletion_requests r WHERE r.id = ANY(%s)",
        [started, [w.pk for w in writes]],
    )
    rows = {pk: rest for pk, *rest in cursor.fetchall()}
    found = sum(rows.get(w.pk) == [True, w.user, 1] for w in writes)
    written = _one(
        cursor,
        "SELECT count(*) FROM customer_data_deletion_requests WHERE processed_by = ANY(%s) AND processed_at >= %s",
        [users, started],
    )
    return found, written


# The writes of each role, each with its check: (found exactly once, written by the role's users).
CHECKS = {
    Role.AGENT: {"reply": check_replies, "resolution": check_resolutions},
    Role.LEAD: {"refund approval": check_refund_approvals},
    Role.FRAUD: {"alert resolution": check_alert_resolutions, "block": check_blocks},
    Role.FRAUD_LEAD: {"alert resolution": check_alert_resolutions, "block": check_blocks},
    Role.LEGAL: {"dispute move": check_dispute_moves},
    Role.COMPLIANCE: {"identity check": check_identity_checks, "deletion approval": check_deletion_approvals},
}


def check(stats: Stats, people: dict[Role, list], started) -> list[str]:
    """Accepted writes against what the database holds, per role and kind of write."""
    lines = [f"{'role':<11} {'write':<18} {'accepted':>8} {'found once':>10} {'written':>8}"]
    ok = True
    with connection.cursor() as cursor:
        for role, kinds in CHECKS.items():
            users = [uid for uid, *_ in people.get(role, [])]
            if not users:
                continue
            for kind, checker in kinds.items():
                writes = stats.accepted.get((role, kind), [])
                found, written = checker(cursor, writes, users, started)
                ok = ok and found == len(writes) == written
                lines.append(f"{role.key:<11} {kind:<18} {len(writes):>8} {found:>10} {written:>8}")
    lost = f" ({sum(stats.lost.values())} writes got no answer: {dict(stats.lost)})" if stats.lost else ""
    lines.append("writes: " + ("every accepted write found exactly once, nothing else" if ok else "MISMATCH") + lost)
    return lines


def contested(stats: Stats) -> int:
    """Refusals on a row for which another soak user's write of that kind was accepted."""
    winners = collections.defaultdict(set)
    for (_, kind), writes in stats.accepted.items():
        for w in writes:
            winners[(kind, w.pk)].add(w.user)
    return sum(bool(winners[(kind, pk)] - {user}) for kind, pk, user in stats.refused_rows)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--minutes", type=float, default=5)
    counts = {
        Role.AGENT: ("--agents", 10),
        Role.LEAD: ("--leads", 3),
        Role.FRAUD: ("--fraud", 3),
        Role.FRAUD_LEAD: ("--fraud-leads", 1),
        Role.LEGAL: ("--legal", 2),
        Role.COMPLIANCE: ("--compliance", 2),
        Role.ANALYST: ("--analysts", 2),
    }
    for role, (option, default) in counts.items():
        parser.add_argument(option, type=int, default=default, help=f"{role.value} staff (default {default})")
    args = parser.parse_args()

    from django.utils import timezone

    stats = Stats()
    people = {
        role: staff(role, getattr(args, option.removeprefix("--").replace("-", "_")))
        for role, (option, _) in counts.items()
    }
    sessions = []
    for role, users in people.items():
        for uid, username, password, device in users:
            sessions.append((role, uid, Session(args.url, sign_in(args.url, username, password, device), stats)))
    started = timezone.now()
    deadline = time.time() + args.minutes * 60
    threads = [
        threading.Thread(
            target=agent_loop if role == Role.AGENT else staff_loop, args=(s, role, uid, deadline, stats), daemon=True
        )
        for role, uid, s in sessions
    ]
    print(f"{len(threads)} staff ({', '.join(f'{len(u)} {r.key}' for r, u in people.items())}) for {args.minutes} min")
    stats.t0 = time.time()
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - t0

    total = sum(stats.codes.values())
    timeouts = stats.codes.get("timeout", 0)
    broken = stats.codes.get("connection error", 0)
    fives = sum(n for code, n in stats.codes.items() if isinstance(code, int) and code >= 500)
    print(
        f"requests: {total:,} in {seconds:.0f} s ({total / seconds:.1f}/s); 5xx: {fives}; time-outs: {timeouts};"
        f" broken connections: {broken}"
    )
    print(f"status codes: {dict(sorted(stats.codes.items(), key=str))}")
    print(f"{'operation':<32} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for op, values in sorted(stats.times.items()):
        print(
            f"{op:<32} {len(values):>6} {statistics.median(values):>8.0f}"
            f" {percentile(values, 0.95):>8.0f} {percentile(values, 0.99):>8.0f}"
        )
    print(
        f"refused writes: {dict(stats.refused)}, of them on a row another soak user's write took: {contested(stats)};"
        f" not offered any more when opened: {dict(stats.not_offered)}"
    )
    for (kind, reason), n in stats.reasons.most_common(10):
        print(f"  refused {kind}: {n} x {reason}")
    for role, at in sorted(stats.ran_out.items(), key=lambda item: item[1]):
        print(f"{role.key}: nothing left to act on from {at:.0f} s ({stats.idle[role]} rounds read pages instead)")
    for line in check(stats, people, started):
        print(line)
    for error in stats.errors[:10]:
        print("error:", error)


if __name__ == "__main__":
    main()
