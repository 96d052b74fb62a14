"""Admin of the support tables, one module per aggregate."""

from tickets.admin import disputes, refunds, tickets  # noqa: F401  (registers the ModelAdmins)
