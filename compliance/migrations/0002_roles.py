from django.db import migrations

from customer_ops.roles import Role, grant

A, L, F, G, C = Role.AGENT, Role.LEAD, Role.FRAUD, Role.LEGAL, Role.COMPLIANCE

view = grant(
    "compliance",
    {
        "consentlog": [A, L, G, C],
        "datadeletionrequest": [C],
        "auditlog": [L, F, G, C],
    },
)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial"), ("customer_ops", "0002_roles")]
    operations = [migrations.RunPython(*view)]
