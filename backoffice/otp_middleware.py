"""django-otp's middleware, with the signed-in user's device read by a statement compiled
once per process.

Every signed-in page asks whether its user passed the second factor, and django-otp reads
the device the session names with a queryset built and compiled for each request
(``Device.from_persistent_id``: 0.4 ms of Python). Staff sign in with the two kinds of
device :mod:`backoffice.second_factor` issues, a TOTP device or a recovery-code device;
those two are read with kept statements (:mod:`customer_ops.statements`). Any other kind,
or a persistent id that is not a device's, goes to django-otp as before, and what follows
the read (the device must be the user's and confirmed) is django-otp's own.

The method replaced, ``_device_from_persistent_id``, is django-otp's (pinned in
requirements.txt); ``tests/test_second_factor.py`` fails if an upgrade renames it.
"""

from __future__ import annotations

from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from customer_ops.statements import STAND_IN, kept_rows


@kept_rows(TOTPDevice, "pk")
def _totp_device():
    return TOTPDevice.objects.filter(pk=STAND_IN)


@kept_rows(StaticDevice, "pk")
def _static_device():
    return StaticDevice.objects.filter(pk=STAND_IN)


KEPT_READS = {TOTPDevice.model_label(): _totp_device, StaticDevice.model_label(): _static_device}
# A key this long or longer might not fit a bigint column; django-otp handles it.
_MAX_DIGITS = 18


class OTPMiddleware(DjangoOTPMiddleware):
    def _device_from_persistent_id(self, persistent_id: str):
        label, _, key = self._normalize_persistent_id(persistent_id).partition("/")
        read = KEPT_READS.get(label)
        if read is None or not (key.isascii() and key.isdigit() and len(key) < _MAX_DIGITS):
            return super()._device_from_persistent_id(persistent_id)
        return next(iter(read(pk=int(key))), None)
