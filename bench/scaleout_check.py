"""The scale-out pieces checked against real servers: a hot standby and PgBouncer.

``bench/scaleout.sh`` starts the servers (a primary on 5441, a standby streaming from it on
5442, PgBouncer in transaction pooling on 6432), prepares the databases and runs this twice
with the right environment::

    bench/scaleout.sh up && bench/scaleout.sh app && bench/scaleout.sh check

``replica``: DATABASE_URL is the primary, DATABASE_REPLICA_URL the standby. The analyst's
dashboard and CSV export must read the standby (its pg_stat_statements, by the runtime role,
before and after each request); the agent's pages and reply the primary, with the standby's
replay paused so that a read there could not have seen the reply.

``pooler``: DATABASE_URL goes through PgBouncer to a pool of ONE server connection
(DATABASE_POOLER=pgbouncer, DATABASE_DIRECT_URL the primary for the jobs' lock): every
transaction of every client (seed_demo, each cron job, web requests from several threads,
a second client) shares one server session, so session state left by anyone would be seen
by the next. Then the erasure bypass: a second client queued behind an open bypass gets the
same server session and finds the bypass gone.

Prints one PASS/FAIL line per claim; exits 1 if any failed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
os.environ.setdefault("DEBUG", "true")

RUNTIME_ROLE = "scaleout_runtime"
# Tables every request reads on the primary (session, user, permissions): not the page's own.
AUTH_TABLES = {
    "django_session",
    "auth_user",
    "auth_user_groups",
    "auth_group",
    "auth_group_permissions",
    "auth_permission",
    "auth_user_user_permissions",
    "django_content_type",
}
failures: list[str] = []


def check(claim: str, ok: bool, detail: str = "") -> bool:
    print(f"{'PASS' if ok else 'FAIL'}  {claim}" + (f"  [{detail}]" if detail else ""), flush=True)
    if not ok:
        failures.append(claim)
    return ok


def setup_django():
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's response.context

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def client_for(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


# --- pg_stat_statements: which server ran what --------------------------------------------


class Statements:
    """The runtime role's statements on one server, as calls counted by pg_stat_statements."""

    def __init__(self, url: str):
        self.url = url

    def snapshot(self) -> dict[int, tuple[str, int]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT queryid, query, calls FROM pg_stat_statements WHERE userid = %s::regrole", [RUNTIME_ROLE]
            ).fetchall()
        return {qid: (query, calls) for qid, query, calls in rows}

    @staticmethod
    def diff(before: dict, after: dict) -> list[tuple[str, int]]:
        return [(q, c - before.get(qid, (q, 0))[1]) for qid, (q, c) in after.items() if c > before.get(qid, (q, 0))[1]]


def tables(statements: list[tuple[str, int]]) -> set[str]:
    found = set()
    for query, _ in statements:
        found |= set(re.findall(r'(?:FROM|JOIN|INTO|UPDATE)\s+"?([a-z_0-9]+)"?', query, flags=re.IGNORECASE))
    return found


def writes(statements: list[tuple[str, int]]) -> list[str]:
    return [q for q, _ in statements if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", q, flags=re.IGNORECASE)]


class Traffic:
    """What the primary and the standby ran (runtime role) while the block ran."""

    def __init__(self, primary: Statements, standby: Statements):
        self.servers = {"primary": primary, "standby": standby}

    def __enter__(self):
        self.before = {name: s.snapshot() for name, s in self.servers.items()}
        return self

    def __exit__(self, *exc):
        self.ran = {name: Statements.diff(self.before[name], s.snapshot()) for name, s in self.servers.items()}

    def tables(self, server: str) -> set[str]:
        from django.db import connection

        return tables(self.ran[server]) & set(connection.introspection.table_names())


def replay_lsn_caught_up(primary_url: str, standby_url: str, timeout: float = 30) -> bool:
    with psycopg.connect(primary_url, autocommit=True) as p:
        target = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with psycopg.connect(standby_url, autocommit=True) as s:
        while time.monotonic() < deadline:
            if s.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
                return True
            time.sleep(0.1)
    return False


# --- replica ------------------------------------------------------------------------------


def replica_checks() -> None:
    setup_django()
    from django.conf import settings
    from django.urls import reverse

    from tickets.models import TicketMessage

    primary_url, standby_url = os.environ["SCALEOUT_PRIMARY_ADMIN_URL"], os.environ["SCALEOUT_STANDBY_ADMIN_URL"]
    replica = settings.DATABASES.get("replica", {})
    check("DATABASE_REPLICA_URL gives a 'replica' alias", replica.get("PORT") == 5442, f"port {replica.get('PORT')}")
    with psycopg.connect(standby_url, autocommit=True) as s:
        check("the standby is a hot standby", s.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True)
    check("the standby has replayed the primary's WAL", replay_lsn_caught_up(primary_url, standby_url))
    primary, standby = Statements(primary_url), Statements(standby_url)
    everything = Traffic(primary, standby).__enter__()

    analyst = client_for("analyst")
    with Traffic(primary, standby) as t:
        page = analyst.get("/admin/analytics/dashboard/?date_from=2020-01-01")
    read_there = t.tables("standby") - AUTH_TABLES
    check("dashboard: 200", page.status_code == 200, f"{len(page.content):,} bytes")
    check("dashboard: its tables were read on the standby", bool(read_there), ", ".join(sorted(read_there)))
    check(
        "dashboard: none of them on the primary (only the session and permissions)",
        not (t.tables("primary") & read_there),
        "primary read: " + ", ".join(sorted(t.tables("primary"))),
    )

    url = "/admin/analytics/dailyanalytics/export/"
    form = analyst.get(url).context["form"]
    fields = {name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"}
    with Traffic(primary, standby) as t:
        export = analyst.post(url, {"format": "0", "resource": "0", **fields})
        lines = b"".join(export.streaming_content).decode().splitlines() if export.streaming else []
    check(
        "CSV export of daily analytics: streamed", export.status_code == 200 and len(lines) > 1, f"{len(lines)} lines"
    )
    check(
        "export: customer_daily_analytics read on the standby",
        "customer_daily_analytics" in t.tables("standby"),
        ", ".join(sorted(t.tables("standby") - AUTH_TABLES)),
    )
    check("export: not on the primary", "customer_daily_analytics" not in t.tables("primary"))

    # The agent: the standby's replay is paused, so a read there could not see the reply.
    with psycopg.connect(standby_url, autocommit=True) as s:
        s.execute("SELECT pg_wal_replay_pause()")
        while s.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != "paused":
            time.sleep(0.05)
    try:
        agent = client_for("agent")
        marker = f"Scale-out check reply {uuid.uuid4().hex[:8]}"
        with Traffic(primary, standby) as t:
            taken = agent.post(reverse("admin:tickets_ticket_take_next"))
            ticket_url = taken.url
            page = agent.get(ticket_url)
            reply_form = page.context["forms"]["reply"]
            reply_url = ticket_url.rstrip("/").rsplit("/", 1)[0] + "/reply/"
            data = {
                "text": marker,
                "attachments": "",
                **{k: reply_form.initial[k] for k in ("seen_message", "seen_note")},
            }
            after = agent.post(reply_url, data, follow=True)
        check("agent: took a ticket and opened it", taken.status_code == 302 and page.status_code == 200, ticket_url)
        check("agent: sees the reply they just sent", marker in after.content.decode(), after.redirect_chain[-1][0])
        check(
            "agent: the reply was written on the primary",
            any("customer_ticket_messages" in q for q in writes(t.ran["primary"])),
        )
        check(
            "agent: nothing of theirs ran on the standby",
            not t.ran["standby"],
            f"{len(t.ran['standby'])} statements; primary ran {sum(c for _, c in t.ran['primary'])}",
        )
        with psycopg.connect(standby_url, autocommit=True) as s:
            on_standby = s.execute("SELECT count(*) FROM customer_ticket_messages WHERE message_text = %s", [marker])
            check("the paused standby does not have the reply yet", on_standby.fetchone()[0] == 0)
    finally:
        with psycopg.connect(standby_url, autocommit=True) as s:
            s.execute("SELECT pg_wal_replay_resume()")
    check("after resuming, the standby replays up to the primary", replay_lsn_caught_up(primary_url, standby_url))
    with psycopg.connect(standby_url, autocommit=True) as s:
        check(
            "the reply is on the standby then",
            s.execute("SELECT count(*) FROM customer_ticket_messages WHERE message_text = %s", [marker]).fetchone()[0]
            == 1,
        )
    check("the reply is in the database once", TicketMessage.objects.filter(message_text=marker).count() == 1)
    everything.__exit__(None, None, None)
    check(
        "no write ever reached the standby",
        not writes(everything.ran["standby"]),
        f"standby ran {sum(c for _, c in everything.ran['standby'])} statements, "
        f"primary {sum(c for _, c in everything.ran['primary'])}",
    )


# --- PgBouncer ------------------------------------------------------------------------------


def pgbouncer_xacts(database: str) -> int:
    """Transactions PgBouncer has passed to ``database`` so far (its admin console)."""
    out = subprocess.run(
        ["psql", "-X", "-At", "-F", "|", os.environ["SCALEOUT_POOLER_ADMIN_URL"], "-c", "SHOW STATS"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in out.splitlines():
        cells = line.split("|")
        if cells[0] == database:
            return int(cells[1])  # total_xact_count
    return 0


def manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=900, env=os.environ
    )


def pooler_checks() -> None:
    setup_django()
    from django.conf import settings
    from django.db import connection

    default = settings.DATABASES["default"]
    pool_db = default["NAME"]
    check(
        "DATABASE_POOLER=pgbouncer: no server-side cursors, no startup options",
        default.get("DISABLE_SERVER_SIDE_CURSORS") is True and "options" not in default["OPTIONS"],
        f"port {default['PORT']}, OPTIONS {default['OPTIONS']}",
    )
    check(
        "the jobs' direct connection bypasses the pooler",
        settings.DATABASES["direct"]["PORT"] not in (default["PORT"], None),
        f"direct port {settings.DATABASES['direct']['PORT']}",
    )
    try:
        psycopg.connect(os.environ["SCALEOUT_POOLER_URL"], options="-c jit=off").close()
        refused = ""
    except psycopg.OperationalError as exc:
        refused = str(exc).strip().splitlines()[-1]
    check(
        "PgBouncer refuses the old startup option (options=-c jit=off)",
        "unsupported startup parameter" in refused,
        refused,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), inet_server_port()")
        jit, server_port = cursor.fetchone()
    check("through PgBouncer, JIT is off (the database's default)", jit == "off", f"jit={jit}")
    check("Django's connection reaches the primary through PgBouncer", server_port == 5441 and default["PORT"] == 6432)
    connection.close()

    # The workflows: seed_demo on the empty database, then every cron job, each a process of its own.
    jobs = [
        ("seed_demo",),
        ("run_daily_jobs",),
        ("recalculate_trust_scores",),
        ("escalate_sla_breaches",),
        ("unblock_expired",),
        ("roll_partitions",),
    ]
    for args in jobs:
        before, started = pgbouncer_xacts(pool_db), time.monotonic()
        result = manage(*args)
        through = pgbouncer_xacts(pool_db) - before
        lines = result.stdout.strip().splitlines() or [""]
        last = next((line for line in lines if line.startswith("Demo data")), lines[-1])[:90]
        check(
            f"{' '.join(args)} through PgBouncer",
            result.returncode == 0 and through > 0,
            f"{through} transactions via PgBouncer, {time.monotonic() - started:.1f}s; "
            + (last if result.returncode == 0 else result.stderr.strip()[-300:]),
        )

    web_workflows(pool_db)
    erasure_through_the_job(pool_db)
    job_lock_on_the_direct_connection()
    bypass_does_not_leak()
    concurrent_pages(pool_db)


def web_workflows(pool_db: str) -> None:
    from django.urls import reverse

    before = pgbouncer_xacts(pool_db)
    agent = client_for("agent")
    taken = agent.post(reverse("admin:tickets_ticket_take_next"))
    page = agent.get(taken.url)
    reply_form = page.context["forms"]["reply"]
    marker = f"Pooled reply {uuid.uuid4().hex[:8]}"
    base = taken.url.rstrip("/").rsplit("/", 1)[0]
    data = {"text": marker, "attachments": "", **{k: reply_form.initial[k] for k in ("seen_message", "seen_note")}}
    after = agent.post(base + "/reply/", data, follow=True)
    check("agent: take, open, reply and see the reply", marker in after.content.decode(), taken.url)
    version = after.context["forms"]["resolve"].initial["version"]
    resolved = agent.post(
        base + "/resolve/", {"version": version, "resolution": "Done through PgBouncer."}, follow=True
    )
    check("agent: resolve", "resolved." in resolved.content.decode())

    analyst = client_for("analyst")
    dashboard = analyst.get("/admin/analytics/dashboard/?date_from=2020-01-01")
    check("analyst: dashboard", dashboard.status_code == 200)
    url = "/admin/analytics/dailyanalytics/export/"
    form = analyst.get(url).context["form"]
    fields = {name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"}
    export = analyst.post(url, {"format": "0", "resource": "0", **fields})
    lines = b"".join(export.streaming_content).decode().splitlines() if export.streaming else []
    check(
        "analyst: streamed CSV export (iterator() without a server-side cursor)", len(lines) > 1, f"{len(lines)} lines"
    )

    for username, name, url in [
        ("lead", "ticket queue", reverse("admin:tickets_ticket_changelist")),
        ("lead", "customer page", reverse("admin:customer_ops_customer_change", args=[resolved_customer(base)])),
        ("fraud", "fraud alerts", reverse("admin:fraud_fraudalert_changelist")),
        ("fraud", "trust scores", reverse("admin:fraud_trustscore_changelist")),
        ("compliance", "audit log", reverse("admin:compliance_auditlog_changelist")),
    ]:
        response = client_for(username).get(url)
        check(f"{username}: {name}", response.status_code == 200, url)
    check("the web workflows went through PgBouncer", pgbouncer_xacts(pool_db) > before)


def resolved_customer(ticket_base_url: str) -> int:
    from tickets.models import Ticket

    return Ticket.objects.values_list("customer_id", flat=True).get(pk=int(ticket_base_url.rsplit("/", 1)[-1]))


def erasure_through_the_job(pool_db: str) -> None:
    from django.contrib.auth import get_user_model

    from compliance import dsr, services
    from compliance.choices import RequestStatus
    from compliance.models import DataDeletionRequest
    from customer_ops.models import Customer
    from customer_ops.personal_data import Scope

    users = get_user_model().objects
    open_requests = DataDeletionRequest.objects.filter(
        request_status__in=[RequestStatus.PENDING, RequestStatus.PROCESSING]
    ).values("customer_id")
    customer = Customer.objects.exclude(pk__in=open_requests).order_by("-id").first()
    request = services.deletion_request_create(
        customer=customer, scopes=[Scope.ALL], reason="scale-out check", actor=users.get(username="compliance")
    )
    admin = users.get(username="admin")
    dsr.verify_identity(request=request, method="ACCOUNT_LOGIN", reference="scale-out", actor=admin)
    services.deletion_request_approve(request=request, actor=admin)
    result = manage("process_deletion_requests")
    request.refresh_from_db()
    check(
        "GDPR erasure (process_deletion_requests, the erasure bypass) through PgBouncer",
        result.returncode == 0 and request.request_status == RequestStatus.COMPLETED,
        (result.stdout.strip().splitlines() or [result.stderr.strip()[-200:]])[-1][:120],
    )
    check("deletion request completed", DataDeletionRequest.objects.get(pk=request.pk).request_status == "COMPLETED")


def job_lock_on_the_direct_connection() -> None:
    from customer_ops.scheduled import job_lock, lock_alias

    with job_lock("unblock_expired") as acquired:
        second = manage("unblock_expired")
    check(
        "a job's lock is held on the direct connection; a second copy does nothing",
        acquired and lock_alias() == "direct" and "already running" in second.stdout,
        second.stdout.strip()[:100],
    )


def bypass_does_not_leak() -> None:
    """Client A (Django) opens an erasure grant for a running erasure; client B queues behind
    it for the one server connection, gets the same server session, and must find no grant
    of its own: a grant is keyed by A's transaction id, which never comes back. Control: a
    session-level pgtrigger.ignore does cross to B through the pool, and opens nothing."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from analytics.models import ActivityLog
    from compliance import dsr, erasure, services
    from customer_ops.roles import Role
    from customer_ops.write_rules import erasure_bypass

    row = ActivityLog.objects.order_by("id").first()
    officers = get_user_model().objects.filter(groups__name=Role.COMPLIANCE.value, is_active=True)[:2]
    request = services.deletion_request_create(
        customer=row.customer, scopes=["DEVICES_NETWORK"], reason="scale-out check", actor=officers[0]
    )
    dsr.verify_identity(request=request, method="ACCOUNT_LOGIN", reference="scale-out", actor=officers[1])
    services.deletion_request_approve(request=request, actor=officers[1])
    erasure.start_run(request)
    update = "UPDATE customer_activity_log SET device_id = device_id || '' WHERE id = %s"
    seen: dict = {}

    def client_b():
        with psycopg.connect(os.environ["SCALEOUT_SINGLE_URL"]) as conn:
            seen["pid"], seen["grants"] = conn.execute(
                "SELECT pg_backend_pid(), count(*) FROM backoffice_private_erasure_grants"
                " WHERE xid = pg_current_xact_id()"
            ).fetchone()
            try:
                conn.execute(update, [row.pk])
                seen["update"] = "allowed"
            except psycopg.Error as exc:
                seen["update"] = str(exc).splitlines()[0]
            conn.rollback()

    b = threading.Thread(target=client_b)
    with transaction.atomic():
        with erasure_bypass(ActivityLog, request_id=request.request_id, pks=[row.pk], reason="scale-out check"):
            with connection.cursor() as cursor:
                cursor.execute(update, [row.pk])  # allowed: A's grant covers the row
                cursor.execute("SELECT pg_backend_pid()")
                (pid_a,) = cursor.fetchone()
            b.start()
            time.sleep(1.0)
            waited = b.is_alive()
    b.join(30)
    check("bypass: B waited for the one server connection while A's transaction was open", waited)
    check("bypass: B then got the same server session", seen.get("pid") == pid_a, f"A {pid_a}, B {seen.get('pid')}")
    check("bypass: B has no grant", seen.get("grants") == 0, repr(seen.get("grants")))
    check("bypass: B's UPDATE of the immutable log is refused", "immutable log" in seen.get("update", ""), seen)

    # Control: a session-level setting crosses to B through the pool, and still opens nothing.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, false)", ["{*}"])
    client_b()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("RESET pgtrigger.ignore")
    check("control: a session-level pgtrigger.ignore opens nothing", "immutable log" in seen.get("update", ""), seen)


def concurrent_pages(pool_db: str, threads: int = 8, each: int = 5) -> None:
    from django.db import connection

    statuses: list[int] = []

    def worker(username: str, url: str):
        client = client_for(username)
        for _ in range(each):
            statuses.append(client.get(url).status_code)
        connection.close()

    pages = [("agent", "/admin/tickets/ticket/"), ("analyst", "/admin/analytics/dashboard/"), ("lead", "/admin/")]
    before, started = pgbouncer_xacts(pool_db), time.monotonic()
    workers = [threading.Thread(target=worker, args=pages[i % len(pages)]) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(300)
    check(
        f"{threads} threads x {each} pages at once, one server connection",
        statuses.count(200) == threads * each,
        f"{statuses.count(200)}/{threads * each} OK in {time.monotonic() - started:.1f}s, "
        f"{pgbouncer_xacts(pool_db) - before} transactions",
    )


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode not in {"replica", "pooler"}:
        sys.exit(__doc__)
    print(f"--- {mode}", flush=True)
    {"replica": replica_checks, "pooler": pooler_checks}[mode]()
    print(f"--- {mode}: {'all passed' if not failures else f'{len(failures)} failed'}", flush=True)
    sys.exit(1 if failures else 0)
