"""The six staff roles (ARCHITECTURE.md, "Roles and what they may see").

Each role is a Django group, created by this app's migration so that every database has
them. Each app's own migration grants its tables' permissions to the roles (see
:func:`grant`), so adding a table touches one app only.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Role key -> group name. The keys double as the demo logins' usernames."""

    AGENT = "Support agent"
    LEAD = "Support lead"
    FRAUD = "Fraud analyst"
    LEGAL = "Legal"
    COMPLIANCE = "Compliance admin"
    ANALYST = "Analyst"

    @property
    def key(self) -> str:
        return self.name.lower()


def create_groups(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def grant(app_label: str, matrix: dict[str, list[Role]], action: str = "view"):
    """A ``RunPython`` function granting ``<action>_<model>`` of ``app_label`` to roles.

    Permissions are normally created after ``migrate``; this creates them first so that a
    fresh database has the groups with their rights as soon as migrations finish.
    """

    def forward(apps, schema_editor):
        from django.contrib.auth.management import create_permissions

        app_config = apps.get_app_config(app_label)
        app_config.models_module = True  # lets create_permissions run on migration state
        create_permissions(app_config, apps=apps, verbosity=0)
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        for model_name, roles in matrix.items():
            permission = Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model_name}")
            for role in roles:
                Group.objects.get(name=role.value).permissions.add(permission)

    def backward(apps, schema_editor):
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        for model_name, roles in matrix.items():
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=f"{action}_{model_name}"
            ).first()
            if permission:
                for role in roles:
                    Group.objects.get(name=role.value).permissions.remove(permission)

    return forward, backward


ALL_ROLES = list(Role)
