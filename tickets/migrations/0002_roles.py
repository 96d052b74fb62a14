from django.db import migrations

from customer_ops.roles import Role, grant

A, L, F, G, C = Role.AGENT, Role.LEAD, Role.FRAUD, Role.LEGAL, Role.COMPLIANCE

view = grant(
    "tickets",
    {
        "ticket": [A, L, F, G, C],
        "ticketmessage": [A, L, F, G],
        "refundrequest": [A, L, F, G],
        "dispute": [A, L, F, G, C],
    },
)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("customer_ops", "0002_roles")]
    operations = [migrations.RunPython(*view)]
