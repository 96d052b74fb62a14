from django.db import migrations

from customer_ops.roles import Role, grant

A, L, F, G, C, N = Role.AGENT, Role.LEAD, Role.FRAUD, Role.LEGAL, Role.COMPLIANCE, Role.ANALYST

view = grant(
    "fraud",
    {
        "trustscore": [A, L, F, N],
        "fraudalert": [F],
        "block": [A, L, F, G],
        "suspiciousactivity": [F],
        "verificationhistory": [A, L, F, C],
    },
)


class Migration(migrations.Migration):
    dependencies = [("fraud", "0001_initial"), ("customer_ops", "0002_roles")]
    operations = [migrations.RunPython(*view)]
