import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from departments import roles
from plan.models import Plan, reporting_period
from plantracker import clock
from tasks import services
from tasks.models import Reminder


class Command(BaseCommand):
    help = (
        "Emails each office staff member the milestones of the reporting quarter (the one just "
        "ended until its reports are due, then the current one) they have not submitted yet or "
        "that were returned: one email a person, at most once a day. For cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="pretend today is this date (YYYY-MM-DD)")

    def handle(self, *args, date=None, **options):
        today = clock.today()
        if date:
            try:
                today = datetime.date.fromisoformat(date)
            except ValueError:
                raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}") from None
        with translation.override(settings.LANGUAGE_CODE):
            self.remind(today)

    def remind(self, today: datetime.date) -> None:
        year, quarter = reporting_period(today)
        plans = list(Plan.objects.filter(year=year))
        if not plans:
            self.stdout.write(f"No plan for {year}; nothing to send.")
            return
        already = set(Reminder.objects.filter(sent_on=today).values_list("user_id", flat=True))
        staff = (
            get_user_model()
            .objects.filter(is_active=True, groups__name=roles.STAFF)
            .exclude(pk__in=already)
            .order_by("username")
        )
        sent = 0
        for user in staff:
            lines = []
            for plan in plans:
                for row in services.pending_rows(services.workspace(user, plan, quarter, today)):
                    measure = row.milestone.measure
                    lines.append(
                        f"- {plan.title} {measure.number}.{measure.title} · "
                        f"{row.milestone.label}:{self.state_text(row.state)}"
                    )
            if not lines:
                continue
            if not user.email:
                self.stderr.write(f"{user.username}: no email address, not reminded")
                continue
            body = "\n".join(
                [
                    _("%(name)s,您好:") % {"name": user.get_full_name() or user.username},
                    "",
                    _("以下进度节点%(year)s年第%(quarter)s季度尚未提交或已被退回,请及时填报:")
                    % {"year": year, "quarter": quarter},
                    *lines,
                    "",
                    _("截止日期:%(date)s") % {"date": plans[0].report_due(quarter)},
                ]
            )
            try:
                with transaction.atomic():
                    Reminder.objects.create(user=user, sent_on=today, body=body)
                    send_mail(
                        _("【推进计划跟踪】您有%(count)s个进度节点待填报") % {"count": len(lines)},
                        body,
                        None,
                        [user.email],
                    )
            except IntegrityError:
                continue  # another run reminded this person today
            sent += 1
        self.stdout.write(f"Sent {sent} reminder(s) for {today}.")

    @staticmethod
    def state_text(state: str) -> str:
        return {"due": _("未填报"), "draft": _("草稿未提交"), "returned": _("已退回待修改")}[state]
