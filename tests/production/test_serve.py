"""Production smoke test: exactly ``make serve``, then every role signs in with Chromium.

One server for the module: ``make serve`` in a subprocess on a free port of 127.0.0.1 with
production settings (DEBUG unset, a random SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, a throw-away
database created here and migrated by the command itself, static files collected into a
fresh directory). If collectstatic, migrate or gunicorn fails, ``make`` exits and every test
here fails with its output.

The browser talks to it as through a TLS-terminating proxy: each request carries
``X-Forwarded-Proto: https`` and the https origin the browser would have had (Playwright's
routing stands in for the proxy). Staff sign in with password and TOTP code
(``tests/production/signin.py``). Every page must load with no CSP violation, no console
error, and every static file served under its hashed name, compressed, cached for a year.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from customer_ops.roles import Role
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Session
from tests.production.env import database_url, production_env
from tests.production.signin import create_staff, sign_in

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN = 300  # seconds: a cold start migrates an empty database (slow on a busy CI machine)
HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")  # ManifestStaticFilesStorage's name.hash.ext
YEAR = "max-age=315360000"  # whitenoise's header for hashed (immutable) files


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    """One plain HTTP request, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Served:
    def __init__(self, base_url: str, env: dict, log: Path, static_root: Path):
        self.base_url, self.env, self.log, self.static_root = base_url, env, log, static_root

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@pytest.fixture(scope="module")
def served(django_db_setup, tmp_path_factory):
    from django.db import connection, connections

    tmp = tmp_path_factory.mktemp("serve")
    # As an operator would: the owner role creates the database and migrates it
    # (DATABASE_OWNER_URL), the web process connects as the runtime role (DATABASE_URL).
    settings, owner = connection.settings_dict, connections["owner"].settings_dict
    name = f"{settings['NAME']}_serve"[:63]
    admin = psycopg.connect(database_url(owner, name="postgres"), autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    port = _free_port()
    env = production_env(
        database_url=database_url(settings, name=name),
        DATABASE_OWNER_URL=database_url(owner, name=name),
        TRUSTED_PROXY_COUNT="1",  # the TLS proxy the browser's requests come through (Playwright's routing)
        HOST="127.0.0.1",
        PORT=str(port),
        STATIC_ROOT=str(tmp / "static"),
    )
    log = tmp / "serve.log"
    with log.open("wb") as out:
        # A session of its own: make, its shell and gunicorn's master and workers are stopped together.
        process = subprocess.Popen(
            ["make", "serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    served = Served(f"http://127.0.0.1:{port}", env, log, tmp / "static")
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:
            if process.poll() is not None:
                pytest.fail(f"make serve exited with {process.returncode}:\n{served.output()}")
            try:
                if _get(served.base_url + "/readyz")[0] == 200:
                    break
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                pytest.fail(f"make serve was not ready within {READY_WITHIN} s:\n{served.output()}")
            time.sleep(0.5)
        yield served
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_make_serve_refuses_to_start_without_a_required_variable(missing):
    env = production_env(database_url="postgres://nobody@127.0.0.1:1/never", PORT=str(_free_port()))
    del env[missing]
    result = subprocess.run(["make", "serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Refusing to start: Production settings" in result.stderr and f"  {missing}: " in result.stderr
    assert "Traceback" not in result.stderr


def test_the_master_compiled_the_templates_before_forking_the_workers(served):
    warmed = re.search(r"Warmed up before forking: (\d+) templates compiled", served.output())
    assert warmed and int(warmed.group(1)) > 100, served.output()


def test_static_files_were_collected_hashed_and_compressed(served):
    manifest = served.static_root / "staticfiles.json"
    assert manifest.exists(), served.output()
    base_css = next(served.static_root.glob("admin/css/base.*.css"))
    assert HASHED.search(base_css.name) and (base_css.parent / (base_css.name + ".gz")).exists()


def test_the_kept_static_urls_are_whitenoises_for_every_collected_file(served):
    from whitenoise.storage import CompressedManifestStaticFilesStorage

    from backoffice.static_storage import StaticFilesStorage

    ours = StaticFilesStorage(location=served.static_root)
    theirs = CompressedManifestStaticFilesStorage(location=served.static_root)
    names = list(theirs.hashed_files)
    assert len(names) > 100, served.output()
    for _ in range(2):  # worked out, then kept
        assert [ours.url(name) for name in names] == [theirs.url(name) for name in names]
    for _ in range(2):  # a name outside the manifest is an error each time, never a kept answer
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            ours.url("admin/css/no-such-file.css")


def test_plain_http_is_redirected_but_the_probes_answer(served):
    status, headers, _ = _get(served.base_url + "/admin/login/")
    assert status == 301 and headers["Location"].startswith("https://127.0.0.1:")
    assert _get(served.base_url + "/healthz")[:1] == (200,)
    assert _get(served.base_url + "/readyz")[2] == b"ok\n"
    # Through the proxy: HSTS, and the page itself.
    status, headers, body = _get(served.base_url + "/admin/login/", **{"X-Forwarded-Proto": "https"})
    assert status == 200 and "max-age=" in headers["Strict-Transport-Security"]
    assert b'id="id_password"' in body  # the sign-in form (its second-factor step: the browser test)
    assert "Traceback" not in served.output()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _behind_the_proxy(context, base_url: str) -> None:
    """What a TLS-terminating proxy hands the app: the header saying the browser used https on
    every request, and on form posts (where CSRF protection compares it with the site) the
    browser's https origin. Chromium will not let a route rewrite ``Origin``, so posts are sent
    by Playwright's own HTTP client and the answer handed back to the page."""
    context.set_extra_http_headers({"X-Forwarded-Proto": "https"})
    secure = "https" + base_url.removeprefix("http")

    def forward(route, request):
        if request.method in ("GET", "HEAD"):
            route.continue_()
            return
        headers = request.all_headers()
        for name in ("origin", "referer"):
            if name in headers:
                headers[name] = headers[name].replace(base_url, secure, 1)
        route.fulfill(response=route.fetch(headers=headers, max_redirects=0))  # the browser follows redirects

    context.route(base_url + "/**", forward)


def _watch_static(page, seen: list[str], problems: list[str]) -> None:
    def check(response):
        path = response.url.split("?")[0]
        if "/static/" not in path:
            return
        seen.append(path)
        headers = response.headers
        if response.status != 200:
            problems.append(f"{path}: status {response.status}")
        if not HASHED.search(path):
            problems.append(f"{path}: not its hashed name")
        if YEAR not in headers.get("cache-control", ""):
            problems.append(f"{path}: Cache-Control {headers.get('cache-control')!r}")
        if path.endswith((".css", ".js")) and headers.get("content-encoding") not in ("gzip", "br"):
            problems.append(f"{path}: not compressed ({headers.get('content-encoding')!r})")

    page.on("response", check)


def test_every_role_signs_in_and_opens_its_pages(served, browser):
    password = secrets.token_urlsafe(16)
    names = create_staff(served.env, password)
    assert sorted(names) == sorted(f"smoke-{role.key}" for role in Role)
    for role in Role:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(20_000)
        _behind_the_proxy(context, served.base_url)
        session = Session(context.new_page(), served.base_url, f"production-{role.key}")
        static, problems = [], []
        _watch_static(session.page, static, problems)
        try:
            # Each is a new staff member: the sign-in enrols their authenticator app.
            sign_in(session.page, served.base_url, f"smoke-{role.key}", password, screenshot=session.shot)
            session.go("/admin/")  # the role's home
            session.page.wait_for_load_state("networkidle")
            first_table = session.page.locator("#content-main th[scope=row] a").first
            if first_table.count():
                session.go(first_table.get_attribute("href"))  # the first table the role works in
                session.page.wait_for_load_state("networkidle")
            session.shot("main")
        finally:
            context.close()
        assert static, f"{role}: no static file was loaded"
        assert not session.problems + problems, f"{role}:\n" + "\n".join(session.problems + problems)
    assert "Traceback" not in served.output()
