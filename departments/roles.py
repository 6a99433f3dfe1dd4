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
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_plantracker_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached |= {ADMIN}
        user._plantracker_roles = cached
    return cached


def is_reviewer(user) -> bool:
    return REVIEWER in roles_of(user)


def is_leader(user) -> bool:
    return LEADER in roles_of(user)


def is_admin(user) -> bool:
    return ADMIN in roles_of(user)
