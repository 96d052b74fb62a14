"""Write rights of the support console (ARCHITECTURE.md, roles matrix).

Agents work their own and unassigned tickets, reply, write internal notes and raise
refund requests; leads also assign anyone, close, export the queue, keep the macros and
approve, reject and process refunds. Fraud and legal read internal notes (context for
their own cases).
"""

from django.db import migrations

from customer_ops.roles import Role, grant

A, L, F, G = Role.AGENT, Role.LEAD, Role.FRAUD, Role.LEGAL

GRANTS = [
    ("view", {"internalnote": [A, L, F, G], "macro": [A, L], "refundorigin": [A, L, F, G], "slaescalation": [A, L]}),
    ("add", {"ticketmessage": [A, L], "internalnote": [A, L], "refundrequest": [A, L], "macro": [L]}),
    ("change", {"macro": [L]}),
    ("delete", {"macro": [L]}),
    ("work", {"ticket": [A, L]}),
    ("assign", {"ticket": [L]}),
    ("close", {"ticket": [L]}),
    ("export", {"ticket": [L]}),
    ("approve", {"refundrequest": [L]}),
    ("process", {"refundrequest": [L]}),
]


def forward(apps, schema_editor):
    for action, matrix in GRANTS:
        grant("tickets", matrix, action)[0](apps, schema_editor)


def backward(apps, schema_editor):
    for action, matrix in GRANTS:
        grant("tickets", matrix, action)[1](apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_support_console"), ("customer_ops", "0002_roles")]
    operations = [migrations.RunPython(forward, backward)]
