"""Two-factor sign-in (backoffice/second_factor.py): enrolment at the first sign-in, codes,
recovery codes, the lockout on the code step, resets by a lead or an administrator, and the
fresh code that changing a second factor needs.

Production behaviour is switched on with ``REQUIRE_2FA=True`` (the site reads it per
request). Codes are computed from the device's key with django-otp's own TOTP function, as
an authenticator app would. The browser side is tests/e2e/test_second_factor.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice import second_factor as sf
from customer_ops.roles import Role
from tests.assertions import unchanged

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_2fa")]

LOGIN = reverse("admin:login")
INDEX = reverse("admin:index")
VERIFY = reverse("admin:second_factor_verify")
ENROL = reverse("admin:second_factor_enrol")
ACCOUNT = reverse("admin:second_factor_account")
RESET = reverse("admin:second_factor_reset")
CONFIRM = reverse("admin:second_factor_confirm")
PASSWORD = "a-long-enough-password"


@pytest.fixture
def require_2fa(settings):
    settings.REQUIRE_2FA = True


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the app shows (``steps_ahead`` 30-second steps later: a code is accepted once)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead)
    return f"{value:0{device.digits}d}"


def with_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    sf.recovery_codes_issue(user=user)
    return device


def password_step(client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password, "next": INDEX})


def signed_in(client) -> bool:
    return client.session.get(SESSION_KEY) is not None and client.get(INDEX).status_code == 200


@pytest.fixture
def agent(make_staff):
    return make_staff(Role.AGENT, username="new-agent", password=PASSWORD)


# --- sign-in ------------------------------------------------------------------------------


def test_the_password_alone_signs_nobody_in(client, agent):
    with_device(agent)
    response = password_step(client, "new-agent")
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert client.session.get(SESSION_KEY) is None  # not signed in: the password only started the sign-in
    for url in (INDEX, ACCOUNT, reverse("admin:tickets_ticket_changelist")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN), url
    page = client.get(VERIFY)
    assert page.status_code == 200 and 'name="otp_token"' in page.content.decode()


def test_a_code_from_the_app_completes_the_sign_in(client, agent):
    device = with_device(agent)
    password_step(client, "new-agent")
    response = client.post(VERIFY, {"otp_token": code_for(device)})
    assert response.status_code == 302 and response["Location"] == INDEX
    assert signed_in(client)
    assert client.session["otp_device_id"] == device.persistent_id


def test_a_wrong_code_is_refused_with_a_message(client, agent):
    device = with_device(agent)
    password_step(client, "new-agent")
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"otp_token": wrong})
    assert response.status_code == 200 and "That code is not valid" in response.content.decode()
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(agent):
    with_device(agent)
    code = StaticToken.objects.filter(device__user=agent).values_list("token", flat=True).first()
    first, second = Client(), Client()
    password_step(first, "new-agent")
    response = first.post(VERIFY, {"otp_token": f" {code.upper()[:4]}-{code.upper()[4:]} "})  # as people type it
    assert response.status_code == 302 and signed_in(first)
    assert not StaticToken.objects.filter(device__user=agent, token=code).exists()
    assert StaticToken.objects.filter(device__user=agent).count() == sf.RECOVERY_CODE_COUNT - 1
    password_step(second, "new-agent")
    response = second.post(VERIFY, {"otp_token": code})
    assert response.status_code == 200 and "That code is not valid" in response.content.decode()
    assert not signed_in(second)


def test_a_pending_sign_in_expires(client, agent):
    device = with_device(agent)
    password_step(client, "new-agent")
    session = client.session
    session[sf.PENDING_KEY] = {**session[sf.PENDING_KEY], "since": int(time.time()) - sf.PENDING_SECONDS - 1}
    session.save()
    response = client.post(VERIFY, {"otp_token": code_for(device)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not signed_in(client)


def test_the_code_pages_need_a_password_first(client, agent):
    with_device(agent)
    for url in (VERIFY, ENROL):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == LOGIN


def test_without_require_2fa_the_password_signs_in(client, agent, settings):
    settings.REQUIRE_2FA = False
    response = password_step(client, "new-agent")
    assert response.status_code == 302 and response["Location"] == INDEX
    assert signed_in(client)


def test_a_session_signed_in_without_a_second_factor_is_refused_once_it_is_required(client, agent):
    client.force_login(agent)  # e.g. signed in while REQUIRE_2FA was off
    response = client.get(INDEX)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


# --- enrolment ----------------------------------------------------------------------------


def test_first_sign_in_without_a_device_enrols_one(client, agent):
    response = password_step(client, "new-agent")
    assert client.get(response["Location"])["Location"] == ENROL
    page = client.get(ENROL)
    body = page.content.decode()
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=agent)
    assert not device.confirmed
    # The QR code is an image drawn on the server (no script), the key is there as text.
    assert re.search(r'<img class="second-factor-qr" src="data:image/svg\+xml;base64,', body)
    shown_key = re.search(r'id="second-factor-key"[^>]*>([A-Z2-7 ]+)<', body).group(1)
    assert base64.b32decode(shown_key.replace(" ", "")) == device.bin_key
    assert client.get(ENROL).content.decode().count(shown_key) == 1  # a reload shows the same key
    assert TOTPDevice.objects.filter(user=agent).count() == 1
    assert client.get(INDEX).status_code == 302  # not signed in while enrolling

    response = client.post(ENROL, {"otp_token": "000000" if code_for(device) != "000000" else "111111"})
    assert response.status_code == 200 and "That code does not match" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and not StaticDevice.objects.filter(user=agent).exists()

    response = client.post(ENROL, {"otp_token": code_for(device)})
    assert response.status_code == 302 and response["Location"] == ACCOUNT
    device.refresh_from_db()
    assert device.confirmed and client.session["otp_device_id"] == device.persistent_id
    page = client.get(ACCOUNT).content.decode()
    shown_codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
    stored = set(StaticToken.objects.filter(device__user=agent).values_list("token", flat=True))
    assert len(shown_codes) == sf.RECOVERY_CODE_COUNT and set(shown_codes) == stored
    again = client.get(ACCOUNT).content.decode()  # shown once
    assert "Recovery codes left: 10" in again and not any(code in again for code in shown_codes)
    assert signed_in(client)


def test_a_user_with_a_device_cannot_enrol_another(client, agent):
    with_device(agent)
    password_step(client, "new-agent")
    assert client.get(ENROL)["Location"] == VERIFY
    assert TOTPDevice.objects.filter(user=agent).count() == 1


def test_new_recovery_codes_replace_the_old_ones(client, agent):
    device = with_device(agent)
    old = set(StaticToken.objects.filter(device__user=agent).values_list("token", flat=True))
    password_step(client, "new-agent")
    client.post(VERIFY, {"otp_token": code_for(device)})  # the sign-in's code is a fresh proof
    response = client.post(ACCOUNT, {"action": "recovery-codes"})
    assert response.status_code == 302
    page = client.get(ACCOUNT).content.decode()
    new = set(re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page))
    assert new == set(StaticToken.objects.filter(device__user=agent).values_list("token", flat=True))
    assert len(new) == sf.RECOVERY_CODE_COUNT and not new & old


# --- lockout on the code step ---------------------------------------------------------------


def _wrong(device) -> str:
    return f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"


def test_wrong_codes_count_like_wrong_passwords_and_lock_out(client, agent, settings):
    device = with_device(agent)
    password_step(client, "new-agent")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(VERIFY, {"otp_token": _wrong(device)}).status_code == 200
    assert AccessAttempt.objects.get(username="new-agent").failures_since_start == settings.AXES_FAILURE_LIMIT - 1
    response = client.post(VERIFY, {"otp_token": _wrong(device)})
    assert response.status_code == 429 and "Too many failed sign-in attempts" in response.content.decode()
    # Locked: neither the right code in this session nor the right password in a new one helps.
    assert client.post(VERIFY, {"otp_token": code_for(device, 1)}).status_code == 429
    assert not signed_in(client)
    assert password_step(Client(), "new-agent").status_code == 429


def test_a_right_password_does_not_clear_the_failures_only_a_completed_sign_in_does(client, agent, settings):
    device = with_device(agent)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        password_step(Client(), "new-agent", "wrong-password-guess")
    assert password_step(client, "new-agent").status_code == 302  # the right password: code step
    assert AccessAttempt.objects.get(username="new-agent").failures_since_start == settings.AXES_FAILURE_LIMIT - 1
    assert client.post(VERIFY, {"otp_token": _wrong(device)}).status_code == 429  # the fifth failure

    AccessAttempt.objects.all().delete()  # unlocked by an administrator
    device.refresh_from_db()
    device.throttle_reset()  # django-otp's own back-off after a wrong code (seconds)
    password_step(Client(), "new-agent", "wrong-password-guess")
    password_step(client, "new-agent")
    assert client.post(VERIFY, {"otp_token": code_for(device, 1)}).status_code == 302
    assert not AccessAttempt.objects.filter(username="new-agent").exists()  # cleared by the completed sign-in


# --- resets by a lead or an administrator -------------------------------------------------------


@pytest.fixture
def staff(make_staff, superuser):
    people = {
        "agent": make_staff(Role.AGENT, username="r-agent"),
        "agent2": make_staff(Role.AGENT, username="r-agent2"),
        "lead": make_staff(Role.LEAD, username="r-lead"),
        "lead2": make_staff(Role.LEAD, username="r-lead2"),
        "fraud": make_staff(Role.FRAUD, username="r-fraud"),
        "compliance": make_staff(Role.COMPLIANCE, username="r-compliance"),
        "agent-and-fraud": make_staff(Role.AGENT, username="r-agent-fraud"),
        "admin": superuser,
        "admin2": make_staff(username="r-admin2", is_superuser=True),
    }
    people["agent-and-fraud"].groups.add(*people["fraud"].groups.all())
    for user in people.values():
        with_device(user)
    return people


# (actor, target) -> may reset. Leads: support agents only; administrators: anyone but themselves.
RESETS = {
    ("lead", "agent"): True,
    ("lead", "lead2"): False,
    ("lead", "fraud"): False,
    ("lead", "agent-and-fraud"): False,
    ("lead", "admin"): False,
    ("lead", "lead"): False,
    ("admin", "agent"): True,
    ("admin", "lead"): True,
    ("admin", "compliance"): True,
    ("admin", "admin2"): True,
    ("admin", "admin"): False,
    ("agent", "agent2"): False,
    ("fraud", "agent"): False,
    ("compliance", "agent"): False,
}


def _verified_client(user, *, fresh: bool = False) -> Client:
    """Signed in with the app at some point (no fresh proof), or, ``fresh``, just now."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id  # as django_otp.login sets it
    if fresh:  # as the sign-in or the confirmation step records it (tested below, through the pages)
        session[sf.FRESH_KEY] = {"user": user.pk, "at": int(time.time())}
    session.save()
    return client


@pytest.mark.parametrize(("actor", "target"), list(RESETS))
def test_who_may_reset_whose_second_factor(staff, actor, target):
    client, victim = _verified_client(staff[actor], fresh=True), staff[target]
    allowed = RESETS[(actor, target)]
    page = client.get(RESET)
    if not sf.may_reset(staff[actor]):
        assert page.status_code == 403
        assert client.post(RESET, {"user": victim.pk, "reason": "phone lost"}).status_code == 403
    else:
        assert page.status_code == 200
        offered = {int(v) for v in re.findall(r'<option value="(\d+)"', page.content.decode())}
        assert (victim.pk in offered) == allowed
        response = client.post(RESET, {"user": victim.pk, "reason": "phone lost, ticket 42"})
        assert response.status_code == (302 if allowed else 200)
    gone = not TOTPDevice.objects.filter(user=victim).exists() and not StaticDevice.objects.filter(user=victim).exists()
    entries = LogEntry.objects.filter(object_id=str(victim.pk), change_message__contains="Second factor reset")
    if allowed:
        assert gone
        entry = entries.get()
        assert entry.user == staff[actor] and "Reason: phone lost, ticket 42" in entry.change_message
    else:
        assert TOTPDevice.objects.filter(user=victim, confirmed=True).count() == 1
        assert StaticToken.objects.filter(device__user=victim).count() == sf.RECOVERY_CODE_COUNT
        assert not entries.exists()


def test_a_reset_needs_a_reason_and_changes_nothing_without_one(staff):
    client, victim = _verified_client(staff["lead"], fresh=True), staff["agent"]
    response = client.post(RESET, {"user": victim.pk, "reason": "  "})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert TOTPDevice.objects.filter(user=victim).exists() and StaticDevice.objects.filter(user=victim).exists()
    assert not LogEntry.objects.filter(object_id=str(victim.pk)).exists()
    with pytest.raises(sf.SecondFactorError, match="Give a reason"):
        sf.second_factor_reset(user=victim, actor=staff["lead"], reason=" ")


def test_the_reset_page_never_shows_a_secret(staff):
    victim = staff["agent"]
    device = TOTPDevice.objects.get(user=victim)
    secrets = {device.key, base64.b32encode(device.bin_key).decode().rstrip("=")}
    secrets |= set(StaticToken.objects.filter(device__user=victim).values_list("token", flat=True))
    client = _verified_client(staff["lead"], fresh=True)
    pages = [client.get(RESET), client.post(RESET, {"user": victim.pk, "reason": "new phone"}, follow=True)]
    for page in pages:
        body = page.content.decode()
        assert page.status_code == 200 and "second factor" in body.lower()
        assert not any(secret in body for secret in secrets)


def test_after_a_reset_the_person_enrols_again_at_the_next_sign_in(staff, client):
    victim = staff["agent"]
    victim.set_password(PASSWORD)
    victim.save()
    sf.second_factor_reset(user=victim, actor=staff["lead"], reason="phone lost")
    password_step(client, "r-agent")
    assert client.get(VERIFY)["Location"] == ENROL
    assert client.get(ENROL).status_code == 200


def test_administrators_see_who_has_a_device_but_never_a_secret(staff):
    victim = staff["agent"]
    device = TOTPDevice.objects.get(user=victim)
    static = StaticDevice.objects.get(user=victim)
    secrets = {device.key, base64.b32encode(device.bin_key).decode().rstrip("=")}
    secrets |= set(StaticToken.objects.filter(device=static).values_list("token", flat=True))
    client = _verified_client(staff["admin"])
    pages = {
        reverse("admin:otp_totp_totpdevice_changelist"): 200,
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]): 200,
        reverse("admin:otp_static_staticdevice_change", args=[static.pk]): 200,
        reverse("admin:otp_totp_totpdevice_config", args=[device.pk]): 403,
        reverse("admin:otp_totp_totpdevice_qrcode", args=[device.pk]): 403,
        reverse("admin:otp_totp_totpdevice_add"): 403,  # nobody sets someone else's key
        reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]): 403,  # resets go with a reason
    }
    for url, status in pages.items():
        response = client.get(url)
        assert response.status_code == status, url
        if status == 200:
            assert "r-agent" in response.content.decode(), url
        assert not any(secret in response.content.decode() for secret in secrets), url


def test_no_recovery_codes_without_an_app(client, agent, settings):
    settings.REQUIRE_2FA = False  # the demo: signed in with the password alone, no device
    client.force_login(agent)
    response = client.post(ACCOUNT, {"action": "recovery-codes"}, follow=True)
    assert response.status_code == 200 and "Set up an authenticator app first" in response.content.decode()
    assert not StaticDevice.objects.filter(user=agent).exists()


# --- a fresh code before changing a second factor ----------------------------------------------

DEVICE_TABLES = (TOTPDevice, StaticDevice, StaticToken, LogEntry)  # what the three actions write


def _signed_in_with_the_app(user) -> tuple[Client, TOTPDevice]:
    """A real sign-in: password, then the app's code (which is a fresh proof for a few minutes)."""
    user.set_password(PASSWORD)
    user.save()
    device = with_device(user)
    client = Client()
    password_step(client, user.get_username())
    assert client.post(VERIFY, {"otp_token": code_for(device)}).status_code == 302
    return client, device


def _later(seconds: int):
    """The clock, ``seconds`` from now (the app's codes follow it, as a phone's would)."""
    return time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=seconds), tick=True)


@pytest.fixture
def victim(make_staff):
    user = make_staff(Role.AGENT, username="their-agent")
    with_device(user)
    return user


@pytest.fixture
def lead_user(make_staff):
    return make_staff(Role.LEAD, username="fresh-lead", password=PASSWORD)


# The three actions that change a second factor: (who acts, the POST). Each test below runs all three.
SENSITIVE = {
    "new recovery codes": ("agent", ACCOUNT, lambda victim: {"action": "recovery-codes"}),
    "remove own factor": ("agent", ACCOUNT, lambda victim: {"action": "remove"}),
    "reset someone else's": ("lead", RESET, lambda victim: {"user": victim.pk, "reason": "phone lost, ticket 7"}),
}


def _actor(which, agent, lead_user):
    return agent if which == "agent" else lead_user


def _changed(which: str, actor, victim, codes_before: set[str]) -> bool:
    """Whether the action took effect, read back from the device tables."""
    if which == "new recovery codes":
        return set(StaticToken.objects.filter(device__user=actor).values_list("token", flat=True)) != codes_before
    if which == "remove own factor":
        return not TOTPDevice.objects.filter(user=actor).exists()
    return not TOTPDevice.objects.filter(user=victim).exists()


@pytest.mark.parametrize("which", list(SENSITIVE))
def test_a_stolen_session_cannot_change_a_second_factor(which, agent, lead_user, victim):
    """Signed in with the app long ago (a stolen cookie): no fresh code, the POST is refused."""
    role, url, data = SENSITIVE[which]
    actor = _actor(role, agent, lead_user)
    with_device(actor)
    client = _verified_client(actor)  # verified, but no code entered in this session lately
    assert client.get(INDEX).status_code == 200  # the session itself works
    with unchanged(*DEVICE_TABLES):
        response = client.post(url, data(victim))
    assert response.status_code == 403
    assert "Nothing was changed: confirm with a current code" in response.content.decode()
    assert 'action="' + CONFIRM + '"' in response.content.decode()  # the way on: the confirmation step
    assert TOTPDevice.objects.filter(user=actor, confirmed=True).count() == 1
    assert TOTPDevice.objects.filter(user=victim, confirmed=True).count() == 1


@pytest.mark.parametrize("which", list(SENSITIVE))
def test_a_fresh_code_opens_the_action_and_an_old_one_no_longer_does(which, agent, lead_user, victim):
    role, url, data = SENSITIVE[which]
    actor = _actor(role, agent, lead_user)
    client, device = _signed_in_with_the_app(actor)
    codes = set(StaticToken.objects.filter(device__user=actor).values_list("token", flat=True))

    # Signed in a while ago: the sign-in's code is older than the window.
    with _later(sf.fresh_proof_seconds() + 1):
        page = client.get(url)
        assert page.status_code == 200 and 'id="confirm-form"' in page.content.decode()
        with unchanged(*DEVICE_TABLES):
            assert client.post(url, data(victim)).status_code == 403

        # The confirmation step: a current code from the app, then back to the page.
        response = client.post(CONFIRM, {"otp_token": code_for(device, 1), "next": url})
        assert response.status_code == 302 and response["Location"] == url
        assert 'id="confirm-form"' not in client.get(url).content.decode()

    # ...which is good for the window only.
    with _later(2 * sf.fresh_proof_seconds() + 2):
        with unchanged(*DEVICE_TABLES):
            assert client.post(url, data(victim)).status_code == 403
        assert client.post(CONFIRM, {"otp_token": code_for(device, 1), "next": url}).status_code == 302
        response = client.post(url, data(victim))
        assert response.status_code == 302
    assert _changed(which, actor, victim, codes)


def test_the_sign_in_code_is_a_fresh_proof_for_the_window(agent):
    client, _device = _signed_in_with_the_app(agent)
    codes = set(StaticToken.objects.filter(device__user=agent).values_list("token", flat=True))
    with _later(sf.fresh_proof_seconds() - 30):
        assert client.post(ACCOUNT, {"action": "recovery-codes"}).status_code == 302
    assert _changed("new recovery codes", agent, None, codes)


def test_a_recovery_code_is_not_a_fresh_proof(agent):
    with_device(agent)
    code, other = StaticToken.objects.filter(device__user=agent).values_list("token", flat=True)[:2]
    client = Client()
    password_step(client, "new-agent")
    assert client.post(VERIFY, {"otp_token": code}).status_code == 302  # signs in...
    with unchanged(*DEVICE_TABLES):  # ...but changes nothing
        assert client.post(ACCOUNT, {"action": "remove"}).status_code == 403
        response = client.post(CONFIRM, {"otp_token": other, "next": ACCOUNT})
        assert response.status_code == 200 and "Recovery codes do not confirm this" in response.content.decode()
        assert client.post(ACCOUNT, {"action": "remove"}).status_code == 403


def test_a_wrong_confirmation_code_is_refused_and_counted(agent):
    client, device = _signed_in_with_the_app(agent)
    with _later(sf.fresh_proof_seconds() + 1):
        response = client.post(CONFIRM, {"otp_token": _wrong(device), "next": ACCOUNT})
        assert response.status_code == 200 and "That code is not valid" in response.content.decode()
        assert AccessAttempt.objects.get(username="new-agent").failures_since_start == 1
        with unchanged(*DEVICE_TABLES):
            assert client.post(ACCOUNT, {"action": "recovery-codes"}).status_code == 403


def test_a_fresh_proof_is_the_signed_in_users_own(agent, lead_user):
    """A proof recorded for someone else (the same browser, another account) does not count."""
    with_device(agent)
    client = _verified_client(lead_user.__class__.objects.get(pk=agent.pk))
    session = client.session
    session[sf.FRESH_KEY] = {"user": lead_user.pk, "at": int(time.time())}
    session.save()
    with unchanged(*DEVICE_TABLES):
        assert client.post(ACCOUNT, {"action": "recovery-codes"}).status_code == 403


def test_removing_ones_own_factor_signs_out_and_the_next_sign_in_enrols(agent):
    client, _device = _signed_in_with_the_app(agent)
    response = client.post(ACCOUNT, {"action": "remove"})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not TOTPDevice.objects.filter(user=agent).exists() and not StaticDevice.objects.filter(user=agent).exists()
    entry = LogEntry.objects.get(object_id=str(agent.pk))
    assert entry.user == agent and "removed by its owner" in entry.change_message
    assert client.session.get(SESSION_KEY) is None
    password_step(client, "new-agent")
    assert client.get(VERIFY)["Location"] == ENROL


def test_an_unknown_account_action_is_a_400_and_changes_nothing(agent):
    client, _device = _signed_in_with_the_app(agent)
    with unchanged(*DEVICE_TABLES):
        assert client.post(ACCOUNT, {"action": "everything"}).status_code == 400


def test_without_require_2fa_staff_without_an_app_reset_as_before(lead_user, victim, settings):
    """The demo: signed in with the password, no app, so no code to give; the reset works."""
    settings.REQUIRE_2FA = False
    client = Client()
    client.force_login(lead_user)
    response = client.post(RESET, {"user": victim.pk, "reason": "phone lost"})
    assert response.status_code == 302 and not TOTPDevice.objects.filter(user=victim).exists()


def test_without_require_2fa_an_app_still_needs_a_fresh_code(lead_user, victim, settings):
    settings.REQUIRE_2FA = False
    with_device(lead_user)
    client = Client()
    client.force_login(lead_user)
    with unchanged(*DEVICE_TABLES):
        assert client.post(RESET, {"user": victim.pk, "reason": "phone lost"}).status_code == 403


# --- the middleware's device read (backoffice/otp_middleware.py) -------------------------


def test_the_device_read_answers_as_django_otps_for_every_persistent_id(agent, make_staff):
    from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
    from django_otp.models import Device

    from backoffice.otp_middleware import KEPT_READS, OTPMiddleware

    # The replaced method is django-otp's: an upgrade that renames it fails here.
    assert callable(getattr(DjangoOTPMiddleware, "_device_from_persistent_id", None))
    totp_device = with_device(agent)
    static_device = StaticDevice.objects.get(user=agent)
    unconfirmed = TOTPDevice.objects.create(user=make_staff(Role.LEAD), name="new", confirmed=False)
    assert set(KEPT_READS) == {TOTPDevice.model_label(), StaticDevice.model_label()}
    ids = [
        totp_device.persistent_id,
        static_device.persistent_id,
        unconfirmed.persistent_id,
        f"django_otp.plugins.otp_totp.models.TOTPDevice/{totp_device.pk}",  # a legacy id
        "otp_totp.totpdevice/999999",
        "otp_totp.totpdevice/-1",
        "otp_totp.totpdevice/1e3",
        "otp_totp.totpdevice/²",
        "otp_totp.totpdevice/99999999999999999999999",
        "otp_totp.totpdevice/",
        "otp_email.emaildevice/1",
        "no.such/1",
        "junk",
    ]
    middleware = OTPMiddleware(lambda request: None)
    for persistent_id in ids:
        ours = middleware._device_from_persistent_id(persistent_id)
        theirs = Device.from_persistent_id(DjangoOTPMiddleware._normalize_persistent_id(persistent_id))
        assert (type(ours), getattr(ours, "pk", None)) == (type(theirs), getattr(theirs, "pk", None)), persistent_id
        if ours is not None:
            assert (ours.user_id, ours.confirmed, ours.name) == (theirs.user_id, theirs.confirmed, theirs.name)


def test_a_signed_in_page_reads_the_device_with_the_kept_statement(client, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    device = with_device(agent)
    password_step(client, "new-agent")
    client.post(VERIFY, {"otp_token": code_for(device)})
    assert signed_in(client)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(INDEX).status_code == 200
    reads = [q["sql"] for q in queries if 'FROM "otp_totp_totpdevice"' in q["sql"]]
    # One read by key, without the ORDER BY and LIMIT of django-otp's first().
    assert len(reads) == 1 and "LIMIT" not in reads[0], reads
