from django.db import migrations

from customer_ops.roles import Role, grant

A, L, F, C, N = Role.AGENT, Role.LEAD, Role.FRAUD, Role.COMPLIANCE, Role.ANALYST

view = grant(
    "analytics",
    {
        "loginhistory": [F, C],
        "activitylog": [A, L, F, C, N],
        "dailyanalytics": [A, L, F, N],
        "serviceanalytics": [A, L, F, N],
        "orderssummary": [A, L, F, N],
        "referral": [A, L, F, N],
        "referralreward": [A, L, F, N],
    },
)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial"), ("customer_ops", "0002_roles")]
    operations = [migrations.RunPython(*view)]
