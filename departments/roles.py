"""The roles of Plan Tracker, kept as Django groups (created by a data migration)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

STAFF = "处室人员"
REVIEWER = "审核人"
LEADER = "领导"
ADMIN = "管理员"
UNIT = "配合单位人员"
ALL = (STAFF, REVIEWER, LEADER, ADMIN, UNIT)


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The role names a user holds; cached on the user object for the request."""
    return _membership(user, "_plantracker_roles")


def department_ids(user: AbstractBaseUser | AnonymousUser) -> frozenset[int]:
    """The pks of the departments a user belongs to; cached on the user object."""
    return _membership(user, "_plantracker_offices")


def _membership(user, attribute: str) -> frozenset:
    if not user.is_authenticated:
        return frozenset()
    if getattr(user, attribute, None) is None:
        load_memberships(user)
    return getattr(user, attribute)


def load_memberships(user) -> None:
    """Reads a user's groups (roles) and departments in one query, and caches both on the
    user object for the request. Nearly every page needs both: two ORM queries cost some
    1.3 ms a request, this one 0.3 ms (README, Performance: update_vs_trivial)."""
    from django.contrib.auth import get_user_model
    from django.db import connections, router

    from .models import Department

    group_link = get_user_model().groups.field
    member_link = Department.members.field
    groups = group_link.remote_field.model
    db = router.db_for_read(Department)
    quote = connections[db].ops.quote_name
    sql = (  # noqa: S608 - table and column names from the models, quoted
        "SELECT 'role', g.{name} FROM {groups} g JOIN {user_groups} ug ON ug.{group} = g.{pk}"
        " WHERE ug.{user} = %s"
        " UNION ALL SELECT 'department', CAST(m.{department} AS VARCHAR(20)) FROM {members} m"
        " WHERE m.{member} = %s"
    ).format(
        name=quote(groups._meta.get_field("name").column),
        groups=quote(groups._meta.db_table),
        user_groups=quote(group_link.m2m_db_table()),
        group=quote(group_link.m2m_reverse_name()),
        pk=quote(groups._meta.pk.column),
        user=quote(group_link.m2m_column_name()),
        department=quote(member_link.m2m_column_name()),
        members=quote(member_link.m2m_db_table()),
        member=quote(member_link.m2m_reverse_name()),
    )
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk])
        rows = cursor.fetchall()
    held = frozenset(value for kind, value in rows if kind == "role")
    if user.is_superuser:
        held |= {ADMIN}
    user._plantracker_roles = held
    user._plantracker_offices = frozenset(int(value) for kind, value in rows if kind != "role")


def may_view_dashboard(user) -> bool:
    """Leaders, reviewers and admins see the dashboards and the plan with its progress;
    office staff see their work."""
    return bool(roles_of(user) & {LEADER, REVIEWER, ADMIN})


def may_use_admin(user) -> bool:
    """The Django admin lets in active staff accounts (admins, and superusers)."""
    return user.is_authenticated and user.is_active and user.is_staff


def page_permissions(user) -> dict[str, bool]:
    """What the navigation offers a user; each page checks again on the server."""
    held = roles_of(user)
    return {
        "work": STAFF in held,
        "contribute": UNIT in held,
        "review": REVIEWER in held,
        "dashboard": may_view_dashboard(user),
        "admin": may_use_admin(user),
    }


def is_admin(user) -> bool:
    return ADMIN in roles_of(user)
