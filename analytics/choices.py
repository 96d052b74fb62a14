"""The spec's enums for the activity and login logs, referrals and rewards."""

from django.db import models


class ActivityType(models.TextChoices):
    """Known activity types. The spec's list ends in "etc.", so the column's CHECK only
    requires an UPPER_SNAKE_CASE code: other services may log types this list lacks."""

    LOGIN = "LOGIN", "Login"
    LOGOUT = "LOGOUT", "Logout"
    APP_OPEN = "APP_OPEN", "App open"
    ORDER_PLACED = "ORDER_PLACED", "Order placed"
    ORDER_COMPLETED = "ORDER_COMPLETED", "Order completed"
    ORDER_CANCELLED = "ORDER_CANCELLED", "Order cancelled"
    PAYMENT_FAILED = "PAYMENT_FAILED", "Payment failed"
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED", "Payment succeeded"
    ADDRESS_ADDED = "ADDRESS_ADDED", "Address added"
    PROFILE_UPDATED = "PROFILE_UPDATED", "Profile updated"


class LoginMethod(models.TextChoices):
    OTP = "OTP", "OTP"
    PASSWORD = "PASSWORD", "Password"
    GOOGLE = "GOOGLE", "Google"
    FACEBOOK = "FACEBOOK", "Facebook"
    BIOMETRIC = "BIOMETRIC", "Biometric"


class ReferralStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    COMPLETED = "COMPLETED", "Completed"
    EXPIRED = "EXPIRED", "Expired"


class RewardType(models.TextChoices):
    CASH = "CASH", "Cash"
    COUPON = "COUPON", "Coupon"
    POINTS = "POINTS", "Points"


class RewardStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PROCESSING = "PROCESSING", "Processing"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


class HoldStatus(models.TextChoices):
    """A held referral reward's review state (``analytics_reward_hold``, this project's table)."""

    HELD = "HELD", "Held for review"
    RELEASED = "RELEASED", "Released"
    FAILED = "FAILED", "Failed"
