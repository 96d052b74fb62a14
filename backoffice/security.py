"""Sign-in hardening wired at URL-configuration time."""

from django.conf import settings
from django.contrib import admin
from django_otp.admin import OTPAdminSite


def configure_admin_site(site: admin.AdminSite = admin.site) -> None:
    """With ``REQUIRE_2FA`` (production), the admin asks for a TOTP token at sign-in and
    refuses staff who have not verified one (django-otp's documented class swap, so every
    ModelAdmin registered on ``admin.site`` is covered)."""
    if settings.REQUIRE_2FA and not isinstance(site, OTPAdminSite):
        # OTPAdminSite first, the site's own class (the home page) kept behind it.
        base = site.__class__
        site.__class__ = type(f"OTP{base.__name__}", (OTPAdminSite, base), {})
