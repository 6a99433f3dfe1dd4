"""The authentication backend: Django's ModelBackend, reading a session's user with his roles
and departments in one query."""

from django.contrib.auth.backends import ModelBackend

from . import roles


class MemberBackend(ModelBackend):
    """ModelBackend (passwords, permissions, is_active) whose get_user, run on every
    request with a session, also loads the user's roles and departments (cached on the user
    for the request: departments.roles.roles_of and department_ids ask no more)."""

    def get_user(self, user_id):
        user = roles.user_with_memberships(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
