import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from departments import roles
from departments.models import Department

# Short login names for the 2014 plan's offices; any other office gets office-<id>.
OFFICE_USERNAMES = {
    "规划发展处": "guihua",
    "专利管理处": "zhuanli",
    "专利代办处": "daiban",
    "法律事务处": "fawu",
    "办公室": "bangongshi",
    "重庆知识产权信息中心": "xinxi",
    "保护协调处": "baohu",
    "各区县(自治县)知识产权局": "quxian",
    "国家知识产权培训基地": "peixun",
}


def office_username(office: Department) -> str:
    return OFFICE_USERNAMES.get(office.name, f"office-{office.pk}")


class Command(BaseCommand):
    help = (
        "Creates demo accounts: one office staff account per responsible office, one account "
        "per cooperating unit, a reviewer, a leader and an admin. Passwords are printed once. "
        "Refused when DEBUG is off."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help="use this password for every new account instead of random ones"
        )

    @transaction.atomic
    def handle(self, *args, password=None, **options):
        if not settings.DEBUG:
            raise CommandError("create_demo_users is refused when DEBUG is off (DJANGO_DEBUG).")
        User = get_user_model()
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in roles.ALL}
        accounts = [
            (office_username(office), roles.STAFF, office)
            for office in Department.objects.filter(kind=Department.Kind.OFFICE, generic=False)
        ]
        accounts += [
            (office_username(unit), roles.UNIT, unit)
            for unit in Department.objects.filter(kind=Department.Kind.UNIT, generic=False)
        ]
        accounts += [
            ("reviewer", roles.REVIEWER, None),
            ("leader", roles.LEADER, None),
            ("admin", roles.ADMIN, None),
        ]
        created = []
        for username, role, office in accounts:
            if User.objects.filter(username=username).exists():
                self.stdout.write(f"{username}: exists, password not shown again")
                continue
            secret = password or secrets.token_urlsafe(9)
            is_admin = role == roles.ADMIN
            user = User.objects.create_user(
                username=username,
                password=secret,
                # example.org is reserved (RFC 2606): with the console mail backend of
                # DEBUG, `send_reminders` shows what each account would be sent.
                email=f"{username}@example.org",
                first_name=office.name if office else role,
                is_staff=is_admin,
                is_superuser=is_admin,
            )
            user.groups.add(groups[role])
            if office:
                office.members.add(user)
            created.append((username, secret, role, office.name if office else ""))
        for username, secret, role, office in created:
            self.stdout.write(f"{username:<12} {secret:<14} {role} {office}")
