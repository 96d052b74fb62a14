"""The staff roles (ARCHITECTURE.md, "Roles and what they may see").

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
    # Holds every right of a fraud analyst (INCLUDES) and reassigns claims, decides in bulk.
    FRAUD_LEAD = "Fraud lead"

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

# A role that holds every right of another, and more: the fraud lead is a fraud analyst who
# also reassigns claims and decides in bulk. Its group gets every permission the included
# group holds after each migrate (:func:`sync_included_rights`), so a later migration that
# grants the analysts a right grants it to the lead too.
INCLUDES: dict[Role, Role] = {Role.FRAUD_LEAD: Role.FRAUD}


def sync_included_rights(sender=None, **kwargs) -> None:
    """post_migrate: each including role's group holds its included group's permissions."""
    from django.contrib.auth.models import Group

    for role, included in INCLUDES.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        source = Group.objects.filter(name=included.value).first()
        if source is not None:
            group.permissions.add(*source.permissions.all())


def with_included(*roles: Role) -> tuple[str, ...]:
    """The group names of ``roles`` and of every role that includes one of them (a home
    section for the fraud analysts is the fraud lead's too)."""
    names = [role.value for role in roles]
    names += [r.value for r, inc in INCLUDES.items() if inc in roles and r.value not in names]
    return tuple(names)


# The apps (labels) each role works in, in the order its home page lists them; the other
# apps the user may open follow, as the stock admin orders them (AdminSite.get_app_list).
ROLE_APPS: dict[Role, list[str]] = {
    Role.AGENT: ["tickets", "customer_ops"],
    Role.LEAD: ["tickets", "analytics", "customer_ops"],
    Role.FRAUD: ["fraud", "analytics", "customer_ops"],
    Role.LEGAL: ["tickets", "customer_ops"],
    Role.COMPLIANCE: ["compliance", "customer_ops"],
    Role.ANALYST: ["analytics"],
    Role.FRAUD_LEAD: ["fraud", "analytics", "customer_ops"],
}


def group_names(user) -> frozenset[str]:
    """The names of the user's groups, cached on the user object for the request with its
    permissions (:func:`customer_ops.access.load`: one statement for both), for every check
    of a page that asks (roles, masking, the audit actor, the refund approval limit)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if not hasattr(user, "_group_names_cache"):
        from customer_ops import access  # auth models: not importable while the apps load

        access.load(user)  # with the permissions, in one statement
    return user._group_names_cache


def roles_of(user) -> list[Role]:
    """The user's roles, in the order of :class:`Role`; a superuser has every role."""
    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return list(Role)
    names = group_names(user)
    return [role for role in Role if role.value in names]


def app_order(app_labels: list[str], roles: list[Role]) -> list[str]:
    """``app_labels`` with the roles' own apps first (the first role's first), the rest after."""
    first: list[str] = []
    for role in roles:
        first += [label for label in ROLE_APPS.get(role, []) if label not in first]
    rank = {label: i for i, label in enumerate(first)}
    return sorted(app_labels, key=lambda label: (rank.get(label, len(rank)), app_labels.index(label)))
