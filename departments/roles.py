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


def _memberships_sql(quote) -> str:
    """The user's (kind, value) rows: ('role', group name) and ('department', its id), for
    the user id given twice as parameters."""
    from django.contrib.auth import get_user_model

    from .models import Department

    group_link = get_user_model().groups.field
    member_link = Department.members.field
    groups = group_link.remote_field.model
    return (  # noqa: S608 - table and column names from the models, quoted
        "SELECT 'role' AS pt_kind, g.{name} AS pt_value FROM {groups} g"
        " JOIN {user_groups} ug ON ug.{group} = g.{pk} WHERE ug.{user} = %s"
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


def _cache_memberships(user, rows) -> None:
    held = frozenset(value for kind, value in rows if kind == "role")
    if user.is_superuser:
        held |= {ADMIN}
    user._plantracker_roles = held
    user._plantracker_offices = frozenset(
        int(value) for kind, value in rows if kind == "department"
    )


def load_memberships(user) -> None:
    """Reads a user's groups (roles) and departments in one query, and caches both on the
    user object for the request. Nearly every page needs both: two ORM queries cost some
    1.3 ms a request, this one 0.3 ms (README, Performance: update_vs_trivial). A request's
    user comes with them already (user_with_memberships)."""
    from django.db import connections, router

    from .models import Department

    db = router.db_for_read(Department)
    with connections[db].cursor() as cursor:
        cursor.execute(_memberships_sql(connections[db].ops.quote_name), [user.pk, user.pk])
        rows = cursor.fetchall()
    _cache_memberships(user, rows)


def user_with_memberships(user_id):
    """The user of a session with his roles and departments, in ONE query (the user's row
    joined to his membership rows): what every page needs first. None when there is no such
    user. (departments.backends.MemberBackend; the save path counts on it, README,
    Performance: update_vs_trivial.)"""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.db import connections, router

    model = get_user_model()
    try:
        pk = model._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    db = router.db_for_read(model)
    quote = connections[db].ops.quote_name
    users, key = quote(model._meta.db_table), quote(model._meta.pk.column)
    # Table and column names from the models, quoted.
    memberships = _memberships_sql(quote)
    sql = f"SELECT u.*, x.pt_kind, x.pt_value FROM {users} u LEFT JOIN ({memberships}) x"  # noqa: S608
    sql += f" ON 1 = 1 WHERE u.{key} = %s"
    found = list(model._default_manager.db_manager(db).raw(sql, [pk, pk, pk]))
    if not found:
        return None
    user = found[0]
    rows = [(row.pt_kind, row.pt_value) for row in found if row.pt_kind is not None]
    for row in found:
        del row.pt_kind, row.pt_value
    _cache_memberships(user, rows)
    return user


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
