"""The spec's enums for trust scores, alerts, blocks, suspicious activity and verification."""

from django.db import models


class RiskLevel(models.TextChoices):
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    CRITICAL = "CRITICAL", "Critical"


class AlertType(models.TextChoices):
    PAYMENT_FRAUD = "PAYMENT_FRAUD", "Payment fraud"
    FALSE_COMPLAINT = "FALSE_COMPLAINT", "False complaint"
    LOCATION_MISMATCH = "LOCATION_MISMATCH", "Location mismatch"
    DEVICE_MISMATCH = "DEVICE_MISMATCH", "Device mismatch"
    MULTIPLE_ACCOUNTS = "MULTIPLE_ACCOUNTS", "Multiple accounts"


class AlertSeverity(models.TextChoices):
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    CRITICAL = "CRITICAL", "Critical"


class BlockType(models.TextChoices):
    SERVICE_BLOCK = "SERVICE_BLOCK", "Service block"
    ACCOUNT_BLOCK = "ACCOUNT_BLOCK", "Account block"
    PAYMENT_BLOCK = "PAYMENT_BLOCK", "Payment block"


class BlockedBy(models.TextChoices):
    SYSTEM = "SYSTEM", "System"
    ADMIN = "ADMIN", "Admin"
    FRAUD_DETECTION = "FRAUD_DETECTION", "Fraud detection"


class SuspiciousActivityType(models.TextChoices):
    UNUSUAL_ORDER_PATTERN = "UNUSUAL_ORDER_PATTERN", "Unusual order pattern"
    LOCATION_JUMP = "LOCATION_JUMP", "Location jump"
    PAYMENT_FAILURE_SPIKE = "PAYMENT_FAILURE_SPIKE", "Payment failure spike"
    MULTIPLE_CANCELLATIONS = "MULTIPLE_CANCELLATIONS", "Multiple cancellations"


class DetectedBy(models.TextChoices):
    SYSTEM = "SYSTEM", "System"
    ML_MODEL = "ML_MODEL", "ML model"
    MANUAL_REVIEW = "MANUAL_REVIEW", "Manual review"


class VerificationType(models.TextChoices):
    MOBILE = "MOBILE", "Mobile"
    EMAIL = "EMAIL", "Email"
    IDENTITY = "IDENTITY", "Identity"
    ADDRESS = "ADDRESS", "Address"
    PAYMENT_METHOD = "PAYMENT_METHOD", "Payment method"


class VerificationMethod(models.TextChoices):
    OTP = "OTP", "OTP"
    EMAIL_LINK = "EMAIL_LINK", "Email link"
    DOCUMENT = "DOCUMENT", "Document"
    BIOMETRIC = "BIOMETRIC", "Biometric"


class VerificationStatus(models.TextChoices):
    INITIATED = "INITIATED", "Initiated"
    SUCCESS = "SUCCESS", "Success"
    FAILED = "FAILED", "Failed"
    EXPIRED = "EXPIRED", "Expired"


# --- the project's own review vocabulary (not spec enums) ----------------------------------


class AlertOutcome(models.TextChoices):
    """What the analyst found (Sift's and Marble's decision outcomes). Precision counts
    CONFIRMED_FRAUD over the three outcomes that decide the question; INCONCLUSIVE decides
    nothing and is shown beside them."""

    CONFIRMED_FRAUD = "CONFIRMED_FRAUD", "Confirmed fraud"
    FALSE_POSITIVE = "FALSE_POSITIVE", "False positive"
    LEGITIMATE = "LEGITIMATE", "Legitimate"
    INCONCLUSIVE = "INCONCLUSIVE", "Inconclusive"


DECIDING_OUTCOMES = (AlertOutcome.CONFIRMED_FRAUD, AlertOutcome.FALSE_POSITIVE, AlertOutcome.LEGITIMATE)


class AlertReasonCode(models.TextChoices):
    """Why, in a word the report can group by (a fixed list, Radar's review reasons)."""

    STOLEN_PAYMENT = "STOLEN_PAYMENT", "Stolen payment method"
    ACCOUNT_TAKEOVER = "ACCOUNT_TAKEOVER", "Account takeover"
    PROMO_ABUSE = "PROMO_ABUSE", "Promotion or referral abuse"
    FAKE_COMPLAINT = "FAKE_COMPLAINT", "Fake complaint or refund abuse"
    LINKED_ACCOUNTS = "LINKED_ACCOUNTS", "Linked to known fraudulent accounts"
    CUSTOMER_CONFIRMED = "CUSTOMER_CONFIRMED", "Customer confirmed the activity"
    KNOWN_DEVICE_OR_PLACE = "KNOWN_DEVICE_OR_PLACE", "Known device, travel or shared network"
    DATA_ERROR = "DATA_ERROR", "Detection or data error"
    NOT_ENOUGH_EVIDENCE = "NOT_ENOUGH_EVIDENCE", "Not enough evidence"
    OTHER = "OTHER", "Other (see the note)"


class ListKind(models.TextChoices):
    """What a list entry matches (Radar's lists)."""

    DEVICE_ID = "DEVICE_ID", "Device id"
    IP_RANGE = "IP_RANGE", "IP address or range"
    EMAIL_DOMAIN = "EMAIL_DOMAIN", "Email domain"
