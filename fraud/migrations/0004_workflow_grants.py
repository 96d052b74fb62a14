"""Write rights of the fraud analysts' workflows (ARCHITECTURE.md, roles matrix).

Views were granted in 0002; these are the add/change/custom rights the services check.
"""

from django.db import migrations

from customer_ops.roles import Role, grant

F = Role.FRAUD


def _grants():
    return [
        grant("fraud", {"fraudalert": [F], "block": [F], "suspiciousactivity": [F]}, "add"),
        grant("fraud", {"fraudalert": [F], "block": [F], "suspiciousactivity": [F]}, "change"),
        grant("fraud", {"trustscore": [F]}, "recalculate"),
        grant("fraud", {"trustscore": [F]}, "confirm_fraud"),
    ]


def forward(apps, schema_editor):
    for f, _ in _grants():
        f(apps, schema_editor)


def backward(apps, schema_editor):
    for _, b in _grants():
        b(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("fraud", "0003_history_and_permissions")]
    operations = [migrations.RunPython(forward, backward)]
