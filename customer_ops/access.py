"""What a signed-in user may do, read in one statement per request.

Every admin page asks for the user's permissions (``has_perm``: ModelBackend reads the
user's own and their groups' permissions, a query each) and for their groups' names
(:func:`customer_ops.roles.group_names`: roles, masking, the audit actor). The three are
one statement here, cached on the user object for the request in the attributes
ModelBackend and ``group_names`` read, so neither asks the database again.

Nothing is cached across requests: a permission or group taken away applies to the user's
next request.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection

from customer_ops.statements import STAND_IN, kept_rows

User = get_user_model()


@cache
def _statement() -> str:
    """(kind, value) rows: 'user' and 'group' permissions as "app_label.codename", as
    ModelBackend names them, and the groups' names."""
    user_model = get_user_model()
    tables = {
        "own": user_model.user_permissions.through._meta.db_table,
        "member": user_model.groups.through._meta.db_table,
        "granted": Group.permissions.through._meta.db_table,
        "permission": Permission._meta.db_table,
        "content_type": ContentType._meta.db_table,
        "group": Group._meta.db_table,
    }
    return """
        SELECT 'user', ct.app_label || '.' || p.codename
          FROM {own} x JOIN {permission} p ON p.id = x.permission_id
          JOIN {content_type} ct ON ct.id = p.content_type_id
         WHERE x.user_id = %(user)s
        UNION ALL
        SELECT 'group', ct.app_label || '.' || p.codename
          FROM {member} m JOIN {granted} x ON x.group_id = m.group_id
          JOIN {permission} p ON p.id = x.permission_id
          JOIN {content_type} ct ON ct.id = p.content_type_id
         WHERE m.user_id = %(user)s
        UNION ALL
        SELECT 'name', g.name FROM {member} m JOIN {group} g ON g.id = m.group_id
         WHERE m.user_id = %(user)s
    """.format(**tables)


def load(user) -> None:
    """Cache the user's permissions and group names on ``user`` for this request.

    The permission caches are ModelBackend's own (``_user_perm_cache``,
    ``_group_perm_cache``); they are set for active non-superusers only, as ModelBackend
    answers the others without them (nothing, or every permission)."""
    found: dict[str, set[str]] = {"user": set(), "group": set(), "name": set()}
    with connection.cursor() as cursor:
        cursor.execute(_statement(), {"user": user.pk})
        for kind, value in cursor.fetchall():
            found[kind].add(value)
    user._group_names_cache = frozenset(found["name"])
    if user.is_active and not user.is_superuser:
        user._user_perm_cache = found["user"]
        user._group_perm_cache = found["group"]


def permission_key(user) -> tuple:
    """What the admins' permission methods read of a user: the active and superuser flags
    and the permissions (``SuperuserOnly``, ``ReadOnlyAdminMixin`` and Django's defaults).
    Whatever is kept per such key (the app list, admin form classes) is the same for every
    user with the same key."""
    if not user.is_authenticated:
        return (False, False, frozenset())
    return (user.is_active, user.is_superuser, frozenset(user.get_all_permissions()))


@kept_rows(User, "pk")
def _user():
    return User._default_manager.filter(pk=STAND_IN)


class OneQueryModelBackend(ModelBackend):
    """ModelBackend, with the permission sets read by :func:`load` and the signed-in user
    read by a statement compiled once per process (:func:`_user`; ModelBackend built and
    compiled a queryset on every request, 5% of a page's CPU).

    It signs staff in, so their sessions name it and every request reads the user through
    it. ModelBackend stays listed after it: sessions from before it signed anyone in name
    ModelBackend and stay valid, and Django asks every backend for permissions (ModelBackend
    then finds the caches this one filled). A wrong password stops here
    (``PermissionDenied``): ModelBackend would hash it a second time. Django then reports
    the failure as for any backend (``user_login_failed``, which django-axes counts)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            raise PermissionDenied
        return user

    def get_user(self, user_id):
        if not isinstance(user_id, int):  # the session's value; ModelBackend's read handles others
            return super().get_user(user_id)
        user = next(iter(_user(pk=user_id)), None)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _loaded(self, user_obj, obj) -> None:
        if (
            obj is None
            and user_obj.is_active
            and not user_obj.is_anonymous
            and not user_obj.is_superuser
            and not hasattr(user_obj, "_user_perm_cache")
        ):
            load(user_obj)

    def get_user_permissions(self, user_obj, obj=None):
        self._loaded(user_obj, obj)
        return super().get_user_permissions(user_obj, obj)

    def get_group_permissions(self, user_obj, obj=None):
        self._loaded(user_obj, obj)
        return super().get_group_permissions(user_obj, obj)
