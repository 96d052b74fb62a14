"""The fraud console: one module per aggregate (alerts, blocks, suspicious activity, trust
scores, verification history)."""

from fraud.admin import alerts, blocks, lists, suspicious, trust, verification  # noqa: F401
