from . import roles as role_names
from .roles import roles_of


def roles(request):
    held = roles_of(request.user)
    return {
        "is_staff_role": role_names.STAFF in held,
        "is_reviewer": role_names.REVIEWER in held,
        "is_leader": role_names.LEADER in held,
        "is_admin_role": role_names.ADMIN in held,
        "is_unit_role": role_names.UNIT in held,
    }
