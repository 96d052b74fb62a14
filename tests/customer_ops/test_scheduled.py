"""Scheduled jobs: two overlapping copies never both work (customer_ops/scheduled.py).

The jobs are read from the shipped cron file (deploy/crontab), so a job added to the
schedule is covered, and a job command left out of the schedule is flagged.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from django.core.management import get_commands, load_command_class
from django.db import connection, connections

from customer_ops.db_roles import OWNER
from customer_ops.scheduled import LOCK_KEY_SQL, JobCommand, job_lock
from tests.production.env import database_url, production_env

ROOT = Path(__file__).resolve().parents[2]
CRONTAB = ROOT / "deploy" / "crontab"
SKIPPED = "is already running (its advisory lock is held): this copy did nothing."


def scheduled_jobs() -> dict[str, list[str]]:
    """``{command: [arguments as cron gives them]}`` for every job line of deploy/crontab."""
    jobs = {}
    for line in CRONTAB.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" in line.split()[0]:
            continue  # comments and VAR=value lines
        command = shlex.split(line.split(None, 5)[5])
        assert command[0].endswith("/deploy/job"), f"every job goes through deploy/job: {line}"
        jobs[command[1]] = command[2:]
    return jobs


JOBS = scheduled_jobs()


def _command(name: str):
    return load_command_class(get_commands()[name], name)


def test_the_schedule_names_every_job_command_and_only_those():
    assert len(JOBS) >= 6  # the README's schedule
    not_locked = [name for name in JOBS if not isinstance(_command(name), JobCommand)]
    assert not_locked == [], "scheduled commands must be JobCommands (one copy at a time)"
    job_commands = {name for name in get_commands() if isinstance(_command(name), JobCommand)}
    assert job_commands - set(JOBS) == set(), "job commands missing from deploy/crontab"


def _session(alias: str = "default"):
    return psycopg.connect(database_url(connections[alias].settings_dict), autocommit=True)


def _lock_holders(session, name: str) -> int:
    """Sessions holding the job's advisory lock (pg_locks shows a bigint key as two halves)."""
    return session.execute(
        f"""SELECT count(*) FROM pg_locks, (SELECT {LOCK_KEY_SQL} AS k) key
            WHERE locktype = 'advisory' AND granted AND objsubid = 1
              AND classid::bigint = (key.k >> 32) & 4294967295 AND objid::bigint = key.k & 4294967295""",
        [name],
    ).fetchone()[0]


@pytest.mark.django_db
def test_job_lock_is_exclusive_and_released_even_after_an_error():
    with _session() as other:
        with job_lock("probe") as acquired:
            assert acquired is True
            assert _lock_holders(other, "probe") == 1
            assert other.execute(f"SELECT pg_try_advisory_lock({LOCK_KEY_SQL})", ["probe"]).fetchone()[0] is False
        assert _lock_holders(other, "probe") == 0
        with pytest.raises(RuntimeError), job_lock("probe"):
            raise RuntimeError("the job failed")
        assert _lock_holders(other, "probe") == 0


def _start(name: str, args: list[str], env_file: Path, stdout, stderr) -> subprocess.Popen:
    return subprocess.Popen(
        [str(ROOT / "deploy" / "job"), name, *args],
        cwd=ROOT,
        # Unbuffered: each line the job prints is written to its stdout at once.
        env={**production_env(database_url="unused"), "BACKOFFICE_ENV_FILE": str(env_file), "PYTHONUNBUFFERED": "1"},
        stdout=stdout,
        stderr=stderr,
    )


def _full_pipe() -> tuple[int, int]:
    """A pipe whose buffer is already full: whoever writes to it waits until it is read."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write_end, b"\0" * 65536)
    os.set_blocking(write_end, True)
    return read_end, write_end


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(JOBS))
def test_two_copies_of_a_scheduled_job_at_once_only_one_works(name, tmp_path):
    """Copy 1 starts and takes the job's lock. It is then held inside its run: every table is
    locked by this test, and its stdout is a full pipe, so its first progress line waits too
    (that holds a job that only reads the catalog, such as roll_partitions with nothing to do).
    Copy 2 starts meanwhile: it must say so and exit 0 -- while every table is locked, so it
    cannot have read or written a row. Then the tables and the pipe are released and copy 1
    does the work. Both go through deploy/job with a production environment file, as cron
    calls them."""
    env = production_env(
        database_url=database_url(connection.settings_dict),
        DATABASE_OWNER_URL=database_url(connections["owner"].settings_dict),  # production refuses one role
    )
    env_file = tmp_path / "env"
    names = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "DATABASE_OWNER_URL")
    env_file.write_text("".join(f"{k}={shlex.quote(env[k])}\n" for k in names))
    args = [_shell(a) if "$(" in a else a for a in JOBS[name]]
    read_end, write_end = _full_pipe()
    # The owner blocks: ACCESS EXCLUSIVE needs a write right, which the runtime role lacks on
    # the tables it may only read (customer_ops.db_roles.PRIVATE_TABLE_PREFIX).
    with _session() as observer, _session(OWNER) as blocker, (tmp_path / "first.err").open("w+") as first_err:
        tables = blocker.execute("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'")
        with blocker.transaction():
            blocker.execute(f"LOCK TABLE {', '.join(t for (t,) in tables)} IN ACCESS EXCLUSIVE MODE")
            first = _start(name, args, env_file, stdout=write_end, stderr=first_err)
            os.close(write_end)
            deadline = time.monotonic() + 60
            while _lock_holders(observer, name) == 0:
                assert first.poll() is None, Path(first_err.name).read_text()
                assert time.monotonic() < deadline, "the first copy never took the lock"
                time.sleep(0.1)
            second = _start(name, args, env_file, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = second.communicate(timeout=60)
            assert second.returncode == 0, err
            assert out.decode().strip() == f"{name} {SKIPPED}"
            assert first.poll() is None  # still holding the lock, inside its run
        with os.fdopen(read_end, "rb") as first_out:
            out = first_out.read().replace(b"\0", b"").decode()
        assert first.wait(timeout=120) == 0, Path(first_err.name).read_text()
    assert out.strip() and SKIPPED not in out  # it did the work, and said what it did


def _shell(argument: str) -> str:
    """A cron argument such as ``$(date -u -d yesterday +\\%F)``, evaluated as cron's shell would."""
    return subprocess.run(
        ["bash", "-c", f"echo {argument.replace(chr(92) + '%', '%')}"], capture_output=True, text=True, check=True
    ).stdout.strip()
