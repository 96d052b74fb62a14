"""The spec's enums for consent, deletion requests and the audit log."""

from django.db import models


class ConsentType(models.TextChoices):
    MARKETING = "MARKETING", "Marketing"
    DATA_PROCESSING = "DATA_PROCESSING", "Data processing"
    DATA_SHARING = "DATA_SHARING", "Data sharing"
    COOKIES = "COOKIES", "Cookies"


class ConsentStatus(models.TextChoices):
    GRANTED = "GRANTED", "Granted"
    REVOKED = "REVOKED", "Revoked"


class ConsentMethod(models.TextChoices):
    APP = "APP", "App"
    WEB = "WEB", "Web"
    EMAIL = "EMAIL", "Email"
    SMS = "SMS", "SMS"


class RequestStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PROCESSING = "PROCESSING", "Processing"
    COMPLETED = "COMPLETED", "Completed"
    REJECTED = "REJECTED", "Rejected"


class AuditAction(models.TextChoices):
    CREATE = "CREATE", "Create"
    UPDATE = "UPDATE", "Update"
    DELETE = "DELETE", "Delete"
    STATUS_CHANGE = "STATUS_CHANGE", "Status change"
    VERIFICATION = "VERIFICATION", "Verification"


class ActorType(models.TextChoices):
    CUSTOMER = "CUSTOMER", "Customer"
    ADMIN = "ADMIN", "Admin"
    SYSTEM = "SYSTEM", "System"
    AGENT = "AGENT", "Agent"


class AccessKind(models.TextChoices):
    """What a staff member did with a customer's personal data (the access log's ``kind``)."""

    VIEW = "VIEW", "Opened the customer's page"
    EXPORT = "EXPORT", "Downloaded a data export"
    REVEAL = "REVEAL", "Revealed a masked field"
    CERTIFICATE = "CERTIFICATE", "Downloaded an erasure certificate"


class ErasureState(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    HELD = "HELD", "Waiting on a legal hold"
    DONE = "DONE", "Done"


class AccessRequestStatus(models.TextChoices):
    """A right-of-access request (GDPR art. 15), in the deletion request's states: decided
    once by a compliance officer (PENDING -> APPROVED or REJECTED), then COMPLETED when the
    customer's data export is produced for it. PENDING and APPROVED are open: the deadline
    runs until the request is completed."""

    PENDING = "PENDING", "Pending"
    APPROVED = "APPROVED", "Approved"
    COMPLETED = "COMPLETED", "Completed"
    REJECTED = "REJECTED", "Rejected"


class VerificationMethod(models.TextChoices):
    """How a data subject's identity was checked before their request is approved."""

    ACCOUNT_LOGIN = "ACCOUNT_LOGIN", "Signed in to their account (authenticated channel)"
    EMAIL_LINK = "EMAIL_LINK", "Confirmed a link sent to the email address on file"
    SMS_CODE = "SMS_CODE", "Confirmed a code sent to the phone number on file"
    ID_DOCUMENT = "ID_DOCUMENT", "Identity document checked"
    KNOWLEDGE = "KNOWLEDGE", "Answered account-specific questions"


class RefusalReason(models.TextChoices):
    """Why a data-subject request is refused (GDPR art. 12(4), 12(5), 17(3))."""

    MANIFESTLY_UNFOUNDED = "MANIFESTLY_UNFOUNDED", "Manifestly unfounded"
    EXCESSIVE = "EXCESSIVE", "Excessive (e.g. repetitive)"
    IDENTITY_NOT_VERIFIED = "IDENTITY_NOT_VERIFIED", "Identity could not be verified"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION", "Legal obligation to retain the data"
    LEGAL_CLAIMS = "LEGAL_CLAIMS", "Needed for legal claims"
    OTHER = "OTHER", "Other"
