"""Sign-in hardening: the admin site's second factor and the lockout policy."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView
from django.db.models import Sum
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice import second_factor, second_factor_views
from customer_ops.admin_base import WRITES, ReadOnlyAdminMixin


class PasswordStepLoginView(LoginView):
    """The stock admin sign-in form; with ``REQUIRE_2FA`` a right password leads to the
    second factor instead of signing the user in (backoffice/second_factor.py)."""

    def form_valid(self, form):
        if not settings.REQUIRE_2FA:
            return super().form_valid(form)
        second_factor.start(self.request, form.get_user(), next_url=self.get_success_url())
        return HttpResponseRedirect(reverse("admin:second_factor_verify"))


class BackOfficeAdminSite(admin.AdminSite):
    """The admin site with the second-factor pages. ``REQUIRE_2FA`` is read on each request
    (tests switch it with ``override_settings``): when on, only staff verified by a
    django-otp device may use the admin, as with django-otp's ``OTPAdminSite``."""

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        return not settings.REQUIRE_2FA or request.user.is_verified()

    def login(self, request, extra_context=None):
        # Django's AdminSite.login, with the view that stops after the password.
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return PasswordStepLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form or AdminAuthenticationForm,
            template_name=self.login_template or "admin/login.html",
        )(request)

    def get_urls(self):
        def bound(view):
            return lambda request: view(request, self)

        return [
            # Before the sign-in is complete: guarded by the pending sign-in, not by admin_view.
            path("second-factor/", bound(second_factor_views.verify), name="second_factor_verify"),
            path("second-factor/enrol/", bound(second_factor_views.enrol), name="second_factor_enrol"),
            # Signed in.
            path(
                "second-factor/account/",
                self.admin_view(bound(second_factor_views.account)),
                name="second_factor_account",
            ),
            path("second-factor/reset/", self.admin_view(bound(second_factor_views.reset)), name="second_factor_reset"),
            path(
                "second-factor/confirm/",
                self.admin_view(bound(second_factor_views.confirm)),
                name="second_factor_confirm",
            ),
            *super().get_urls(),
        ]


class DeviceListOnly(ReadOnlyAdminMixin):
    """django-otp's device admins, for administrators to see who has set up what: never a
    secret (``OTP_ADMIN_HIDE_SENSITIVE_DATA`` hides keys, QR codes and recovery codes) and
    no add, change or delete, since people enrol themselves and a reset goes, with its
    reason, through the reset page (backoffice/second_factor.py)."""

    refused_writes = WRITES


class TOTPDeviceListAdmin(DeviceListOnly, TOTPDeviceAdmin):
    pass


class StaticDeviceListAdmin(DeviceListOnly, StaticDeviceAdmin):
    pass


def configure_admin_site(site: admin.AdminSite = admin.site) -> None:
    """Gives ``site`` the second factor (a class swap, so every ModelAdmin already
    registered on ``admin.site`` is covered) and list-only device admins. The site's own
    class (customer_ops.site.BackofficeSite: the home page per role) stays behind it."""
    if not isinstance(site, BackOfficeAdminSite):
        base = site.__class__
        site.__class__ = type(f"SecondFactor{base.__name__}", (BackOfficeAdminSite, base), {})
    for model, model_admin in ((TOTPDevice, TOTPDeviceListAdmin), (StaticDevice, StaticDeviceListAdmin)):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with two limits and a narrower reset.

    ``AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]``: failures for one username,
    from any addresses, lock it at ``AXES_FAILURE_LIMIT`` (guessing one account's password
    from many addresses); failures from one client address, whatever the usernames, lock
    it at the larger ``AXES_IP_FAILURE_LIMIT`` (one password sprayed over many accounts;
    larger since an office behind NAT shares one address). axes compares a single number
    with ``AXES_FAILURE_LIMIT``, so the address's count is scaled to that limit.

    A successful sign-in clears the failures of the user who signed in only: clearing all
    of the address's, as axes does, would let anyone with one valid account reset the count
    of the accounts they are guessing.
    """

    def get_failures(self, request, credentials=None) -> int:
        # get_user_attempts: one queryset per entry of AXES_LOCKOUT_PARAMETERS, in its order.
        failures = {
            parameter: attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for parameter, attempts in zip(
                settings.AXES_LOCKOUT_PARAMETERS, self.get_user_attempts(request, credentials), strict=True
            )
        }
        by_address = failures["ip_address"] * settings.AXES_FAILURE_LIMIT // settings.AXES_IP_FAILURE_LIMIT
        return max(failures["username"], by_address)

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        return self.reset_attempts(username=username) if username else 0
