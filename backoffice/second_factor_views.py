"""The second-factor pages of the admin site (flow and rules in backoffice/second_factor.py).

Every page extends the stock admin templates and works under the strict CSP: the QR code
is an SVG drawn on the server (the ``qrcode`` package) and embedded as a ``data:`` image,
no script. Every POST carries the CSRF token.

The pages that change a second factor (the account page's new recovery codes and
removal, the reset page) ask for a fresh code first, on the confirmation page
(:func:`confirm`), which returns to them; their POSTs are refused with a 403 and change
nothing without one (:func:`_refuse_without_fresh_proof`), whatever the page showed.
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import logout as auth_logout
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.forms import OTPAuthenticationFormMixin

from backoffice import second_factor as sf


class CodeForm(OTPAuthenticationFormMixin, forms.Form):
    """One box for the app's 6-digit code or a recovery code; django-otp's mixin verifies it
    (throttling included) against the device the code's shape points to."""

    otp_token = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}),
    )
    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": "Enter the 6-digit code from your authenticator app, or a recovery code.",
        "device_required": "Enter the 6-digit code from your authenticator app, or a recovery code.",
        "invalid_token": "That code is not valid. Check it and try again.",
    }

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_otp_token(self):
        return sf.normalise_code(self.cleaned_data["otp_token"])

    def clean(self):
        super().clean()
        if "otp_token" in self.cleaned_data:
            self.clean_otp(self.user)
        return self.cleaned_data

    def _chosen_device(self, user):
        return sf.device_for_code(user, self.cleaned_data.get("otp_token", ""))


class FreshProofForm(CodeForm):
    """The confirmation before changing a second factor: a current code from the app only
    (why not a recovery code: backoffice/second_factor.py)."""

    otp_error_messages = {
        **CodeForm.otp_error_messages,
        "token_required": "Enter the 6-digit code your authenticator app shows now.",
        "device_required": "Set up an authenticator app first.",
    }

    def clean_otp_token(self):
        code = super().clean_otp_token()
        if not code.isdigit():
            raise forms.ValidationError(
                "Recovery codes do not confirm this: enter the 6-digit code your authenticator app shows now."
            )
        return code

    def _chosen_device(self, user):
        return sf.confirmed_totp_device(user)


class EnrolForm(forms.Form):
    otp_token = forms.CharField(
        label="Code from the app",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "numeric"}),
    )


class ResetForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Staff member")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
        help_text="Why, for the record: for example “phone lost, confirmed by video call”.",
    )

    def __init__(self, actor, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = sf.resettable_with_device(actor)


def _qr_code_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _key_for_people(device) -> str:
    """The secret as authenticator apps ask for it (base32), in groups of four."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _safe_next(request, next_url: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if allowed else reverse("admin:index")


def _login_again(request):
    messages.info(request, "Sign in with your username and password first.")
    return HttpResponseRedirect(reverse("admin:login"))


def _context(site, request, title: str, **extra):
    return {**site.each_context(request), "title": title, "subtitle": None, **extra}


def _locked_out(request, user):
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        sf.forget(request)
        return get_lockout_response(request, None, credentials)
    return None


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def verify(request, site):
    """Step two of the sign-in: a code from the app or a recovery code."""
    user = sf.pending_user(request)
    if user is None:
        return _login_again(request)
    if sf.confirmed_totp_device(user) is None:
        return HttpResponseRedirect(reverse("admin:second_factor_enrol"))
    locked = _locked_out(request, user)
    if locked is not None:
        return locked
    form = CodeForm(user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            next_url = sf.complete(request, user, user.otp_device)
            if user.otp_device.persistent_id == getattr(sf.recovery_device(user), "persistent_id", None):
                left = user.otp_device.token_set.count()
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. "
                    "Issue new ones from “Two-factor” once you have your phone again.",
                )
            return HttpResponseRedirect(_safe_next(request, next_url))
        if form.cleaned_data.get("otp_token") or form.has_error("otp_token", "max_length"):
            sf.record_failure(request, user)  # django-axes counts it; its middleware answers a lockout
    return TemplateResponse(
        request,
        "admin/second_factor/verify.html",
        _context(site, request, "Two-factor sign-in", form=form, username=user.get_username()),
    )


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def enrol(request, site):
    """First sign-in without a device: the key as a QR code and as text, confirmed by a code."""
    user = sf.pending_user(request)
    if user is None:
        return _login_again(request)
    if sf.confirmed_totp_device(user) is not None:
        return HttpResponseRedirect(reverse("admin:second_factor_verify"))
    locked = _locked_out(request, user)
    if locked is not None:
        return locked
    device = sf.enrolment_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = sf.enrolment_confirm(device=device, code=form.cleaned_data["otp_token"])
        except sf.SecondFactorError as error:
            form.add_error("otp_token", str(error))
        else:
            device.refresh_from_db()
            next_url = sf.complete(request, user, device)
            request.session[sf.RECOVERY_CODES_KEY] = {"codes": codes, "next": _safe_next(request, next_url)}
            return HttpResponseRedirect(reverse("admin:second_factor_account"))
    return TemplateResponse(
        request,
        "admin/second_factor/enrol.html",
        _context(
            site,
            request,
            "Set up two-factor sign-in",
            form=form,
            username=user.get_username(),
            qr_code=_qr_code_data_uri(device.config_url),
            key=_key_for_people(device),
        ),
    )


def _fresh_context(request) -> dict:
    """What a sensitive page needs to show either its actions or the confirmation step."""
    fresh = sf.fresh_enough(request)
    return {
        "fresh": fresh,
        "confirm_form": None if fresh else FreshProofForm(request.user),
        "confirm_next": request.path,
        "fresh_minutes": sf.fresh_proof_seconds() // 60,
    }


def _refuse_without_fresh_proof(request, site):
    """None when the POST may go ahead; else the 403 that asks for a code first (nothing changed)."""
    if sf.fresh_enough(request):
        return None
    return TemplateResponse(
        request,
        "admin/second_factor/confirm.html",
        _context(
            site,
            request,
            "Confirm with a code from your app",
            form=FreshProofForm(request.user),
            confirm_next=request.path,
            refused=True,
            fresh_minutes=sf.fresh_proof_seconds() // 60,
        ),
        status=403,
    )


@sensitive_post_parameters("otp_token")
@never_cache
def confirm(request, site):
    """The fresh proof: a current code from the app, then back to the page that asked (``next``)."""
    user = request.user
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if next_url == reverse("admin:index"):
        next_url = reverse("admin:second_factor_account")
    if sf.confirmed_totp_device(user) is None:
        messages.info(request, "You have no authenticator app set up: there is no code to confirm with.")
        return HttpResponseRedirect(reverse("admin:second_factor_account"))
    locked = _locked_out(request, user)
    if locked is not None:
        return locked
    # django-otp's form sets ``otp_device`` on the user it checks: a copy, not request.user
    # (whose device says how this session signed in).
    form = FreshProofForm(get_user_model().objects.get(pk=user.pk), request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            sf.record_fresh_proof(request, user)
            return HttpResponseRedirect(next_url)
        if form.cleaned_data.get("otp_token") or form.has_error("otp_token", "max_length"):
            sf.record_failure(request, user)  # a wrong code counts as at the sign-in (django-axes)
    return TemplateResponse(
        request,
        "admin/second_factor/confirm.html",
        _context(
            site,
            request,
            "Confirm with a code from your app",
            form=form,
            confirm_next=next_url,
            fresh_minutes=sf.fresh_proof_seconds() // 60,
        ),
    )


ACCOUNT_ACTIONS = ("recovery-codes", "remove")


@never_cache
def account(request, site):
    """The signed-in user's own second factor: new recovery codes (shown once), removing it
    (a new phone), and for leads and administrators the way to the reset page. Both changes
    need a fresh code from the app."""
    user = request.user
    if request.method == "POST":
        refused = _refuse_without_fresh_proof(request, site)
        if refused is not None:
            return refused
        action = request.POST.get("action")
        if action not in ACCOUNT_ACTIONS:
            return HttpResponseBadRequest("Unknown action.")
        if sf.confirmed_totp_device(user) is None:
            messages.error(request, "Set up an authenticator app first: recovery codes come with it.")
            return HttpResponseRedirect(request.path)
        if action == "recovery-codes":
            request.session[sf.RECOVERY_CODES_KEY] = {"codes": sf.recovery_codes_issue(user=user), "next": ""}
            return HttpResponseRedirect(request.path)
        sf.second_factor_remove_own(user=user)
        sf.forget_fresh_proof(request)
        if settings.REQUIRE_2FA:  # without a device this session is no longer verified: sign in again
            auth_logout(request)
            messages.success(request, "Your second factor is removed. Sign in again to set up your authenticator app.")
            return HttpResponseRedirect(reverse("admin:login"))
        messages.success(request, "Your second factor is removed.")
        return HttpResponseRedirect(request.path)
    shown = request.session.pop(sf.RECOVERY_CODES_KEY, None)  # once: a reload no longer shows them
    recovery = sf.recovery_device(user)
    return TemplateResponse(
        request,
        "admin/second_factor/account.html",
        _context(
            site,
            request,
            "Two-factor sign-in",
            codes=shown and shown["codes"],
            continue_to=shown and shown["next"],
            has_app=sf.confirmed_totp_device(user) is not None,
            codes_left=recovery.token_set.count() if recovery else 0,
            may_reset=sf.may_reset(user),
            **_fresh_context(request),
        ),
    )


@never_cache
def reset(request, site):
    """A lead or an administrator removes someone's second factor (they enrol again); after
    a fresh code from their own app."""
    if not sf.may_reset(request.user):
        raise PermissionDenied
    if request.method == "POST":
        refused = _refuse_without_fresh_proof(request, site)
        if refused is not None:
            return refused
    form = ResetForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["user"]
        try:
            sf.second_factor_reset(user=target, actor=request.user, reason=form.cleaned_data["reason"])
        except sf.SecondFactorError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"The second factor of {target.get_username()} is reset: "
                "they set up their authenticator app again at their next sign-in.",
            )
            return HttpResponseRedirect(request.path)
    return TemplateResponse(
        request,
        "admin/second_factor/reset.html",
        _context(site, request, "Reset someone's second factor", form=form, **_fresh_context(request)),
    )
