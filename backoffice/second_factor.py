"""Staff sign-in with a second factor: self-service enrolment, recovery codes, resets.

Built on django-otp's own devices (django-two-factor-auth's templates load jQuery and
Bootstrap from a CDN, which the strict Content-Security-Policy refuses):

- a TOTP device (``otp_totp``), which its owner enrols at their first sign-in;
- one static device (``otp_static``) holding ten single-use recovery codes, issued when the
  TOTP device is confirmed and shown once;

The sign-in, with ``REQUIRE_2FA``::

    password (the stock admin form) --ok--> pending (the session holds who, not a login)
    pending --has a confirmed TOTP device--> code: a TOTP code or a recovery code --ok--> signed in
    pending --has none--------------------> enrolment: QR code + key, confirmed by a code
                                            --ok--> signed in, recovery codes shown once

Nobody is signed in (``django.contrib.auth.login``) before both factors passed, so the
password alone opens nothing, and django-axes counts a wrong code like a wrong password
(see :func:`record_failure`) and clears the user's failures only after the second factor.

Nobody handles another person's secret: a lead (for support agents) or an administrator
(for anyone but themselves) can only *reset* a second factor (:func:`second_factor_reset`),
which removes the devices; the person then enrols again at their next sign-in.

A fresh proof (:func:`has_fresh_proof`): a session alone, however it was obtained (a
stolen cookie, a computer left unlocked), may not change a second factor. Issuing new
recovery codes, removing one's own factor and resetting someone else's need a current
code from the authenticator app entered within the last ``SECOND_FACTOR_FRESH_MINUTES``
(default 5) in this session: at the sign-in itself, or on the confirmation step those
pages ask for. The time is kept in the (server-side) session. A recovery code is never
a fresh proof: it is a paper fallback to sign in once, and accepting it here would turn
one leaked code into lasting access (ten new codes, or the app removed and a new one
enrolled by whoever holds the password). Whoever lost their phone signs in with a
recovery code and asks a lead or an administrator for a reset, which records a reason.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from customer_ops.roles import Role

PENDING_KEY = "_second_factor_pending"
PENDING_SECONDS = 5 * 60  # from the password to the code: time to find the phone
RECOVERY_CODES_KEY = "_second_factor_new_recovery_codes"  # shown once, then dropped
RECOVERY_CODE_COUNT = 10
TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
FRESH_KEY = "_second_factor_fresh_proof"  # {"user": pk, "at": epoch seconds} of the last app code


class SecondFactorError(Exception):
    """A refused second-factor operation; the message says what to do."""


# --- the pending sign-in -----------------------------------------------------------------


def start(request, user, *, next_url: str) -> None:
    """The password was right: remember who signs in, without signing them in yet."""
    request.session.cycle_key()  # a new key for a session that now means something
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "since": int(time.time()),
        "next": next_url,
    }


def pending_user(request):
    """The staff member whose password was accepted in this session, or None (none,
    expired, or no longer an active staff member)."""
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["since"] > PENDING_SECONDS:
        return None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True, is_staff=True).first()
    if user is not None:
        user.backend = pending["backend"]
    return user


def forget(request) -> None:
    request.session.pop(PENDING_KEY, None)


def complete(request, user, device) -> str:
    """Both factors passed: sign the user in, verified by ``device``; returns where to go."""
    next_url = request.session[PENDING_KEY]["next"]
    forget(request)
    user.otp_device = device  # django.contrib.auth.login then records it (django_otp.login)
    auth_login(request, user, backend=user.backend)
    if isinstance(device, TOTPDevice):  # a code from the app, just typed: a fresh proof too
        record_fresh_proof(request, user)
    return next_url


def record_failure(request, user) -> None:
    """A wrong code counts as a failed sign-in: django-axes listens to this signal."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)


# --- the fresh proof before changing a second factor ----------------------------------------


def fresh_proof_seconds() -> int:
    """How long a code from the app keeps the sensitive second-factor actions open."""
    return int(getattr(settings, "SECOND_FACTOR_FRESH_MINUTES", 5) * 60)


def record_fresh_proof(request, user) -> None:
    """``user`` has just entered a valid code from their authenticator app in this session."""
    request.session[FRESH_KEY] = {"user": user.pk, "at": int(time.time())}


def has_fresh_proof(request) -> bool:
    """A code from the app, by the signed-in user, within the last few minutes (this session)."""
    proof = request.session.get(FRESH_KEY)
    if not proof or proof.get("user") != request.user.pk:
        return False
    return 0 <= time.time() - proof["at"] <= fresh_proof_seconds()


def needs_fresh_proof(user) -> bool:
    """Whether ``user`` must give a fresh proof before changing a second factor: always when
    the second factor is required (every signed-in user then has an app), and otherwise
    (``REQUIRE_2FA`` off: the demo) whenever they have set an app up. Staff without an app
    in the demo have no code to give; for them nothing changes."""
    return settings.REQUIRE_2FA or confirmed_totp_device(user) is not None


def fresh_enough(request) -> bool:
    """The check every sensitive second-factor POST makes before it changes anything."""
    return not needs_fresh_proof(request.user) or has_fresh_proof(request)


def forget_fresh_proof(request) -> None:
    request.session.pop(FRESH_KEY, None)


# --- devices -----------------------------------------------------------------------------


def confirmed_totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def device_for_code(user, code: str):
    """Which of the user's devices a typed code is for: six digits are the app's code,
    anything else a recovery code (eight letters and digits). None if the user has none."""
    return confirmed_totp_device(user) if code.isdigit() else recovery_device(user)


def normalise_code(code: str) -> str:
    """Codes as people type them: spaces, dashes and capitals are not part of a code."""
    return "".join(code.split()).replace("-", "").lower()


def enrolment_device(user) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (the same key on every reload of the page)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


@transaction.atomic
def enrolment_confirm(*, device: TOTPDevice, code: str) -> list[str]:
    """Confirms the device with a code from the app; returns the new recovery codes."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed:
        raise SecondFactorError("This device is already set up: sign in with a code from it.")
    if not device.verify_token(normalise_code(code)):
        raise SecondFactorError("That code does not match. Enter the 6-digit code the app shows now.")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return recovery_codes_issue(user=device.user)


@transaction.atomic
def recovery_codes_issue(*, user) -> list[str]:
    """A new set of single-use recovery codes; the previous set stops working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _remove_devices(user) -> int:
    return sum(
        model.objects.filter(user=user).delete()[1].get(model._meta.label, 0) for model in (TOTPDevice, StaticDevice)
    )


@transaction.atomic
def second_factor_remove_own(*, user) -> int:
    """``user`` removes their own app and recovery codes (a new phone: they enrol it at their
    next sign-in); recorded in the admin's history of ``user``. Returns the devices removed.
    The caller has checked the fresh proof (:func:`fresh_enough`)."""
    removed = _remove_devices(user)
    if not removed:
        raise SecondFactorError("You have no second factor to remove.")
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=get_user_model().objects.filter(pk=user.pk),
        action_flag=CHANGE,
        change_message=f"Second factor removed by its owner ({removed} device(s) removed).",
        single_object=True,
    )
    return removed


# --- resets by a lead or an administrator ----------------------------------------------------


def _has_device():
    return Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)) | Exists(
        StaticDevice.objects.filter(user=OuterRef("pk"))
    )


def resettable_staff(actor) -> QuerySet:
    """Whose second factor ``actor`` may reset: an administrator anyone's but their own; a
    support lead the support agents' (not another lead's, nor anyone with more rights)."""
    users = get_user_model().objects.filter(is_staff=True).exclude(pk=actor.pk)
    if actor.is_superuser:
        return users
    if actor.groups.filter(name=Role.LEAD.value).exists():
        return users.filter(groups__name=Role.AGENT.value, is_superuser=False).exclude(
            groups__name__in=[role.value for role in Role if role is not Role.AGENT]
        )
    return users.none()


def may_reset(actor) -> bool:
    return actor.is_active and (actor.is_superuser or actor.groups.filter(name=Role.LEAD.value).exists())


def resettable_with_device(actor) -> QuerySet:
    return resettable_staff(actor).filter(_has_device()).order_by("username")


@transaction.atomic
def second_factor_reset(*, user, actor, reason: str) -> int:
    """Removes ``user``'s TOTP device and recovery codes, so that they enrol again at their
    next sign-in; recorded in the admin's history of ``user`` with the reason. Returns the
    number of devices removed. The secret is never shown to, nor chosen by, the actor."""
    reason = reason.strip()
    if not reason:
        raise SecondFactorError("Give a reason (for example: phone lost, ticket number).")
    if not resettable_staff(actor).filter(pk=user.pk).exists():
        raise SecondFactorError(f"You may not reset the second factor of {user.get_username()}.")
    removed = _remove_devices(user)
    if not removed:
        raise SecondFactorError(f"{user.get_username()} has no second factor to reset.")
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=get_user_model().objects.filter(pk=user.pk),
        action_flag=CHANGE,
        change_message=f"Second factor reset ({removed} device(s) removed). Reason: {reason}",
        single_object=True,
    )
    return removed
