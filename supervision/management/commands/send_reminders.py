import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from departments import roles
from plan.models import Plan
from plantracker import clock
from supervision import services as supervision
from supervision.models import Notice
from tasks import services
from tasks.models import Reminder

# Overdue reports stop being reminded this long after the plan's last (fourth-quarter)
# reports were due: by then the year's figures are closed.
STOP_AFTER = datetime.timedelta(days=28)


@dataclass
class Window:
    """A quarter's reports within the reminder window: due within the longest notice
    period, or overdue."""

    plan: Plan
    quarter: int
    due: datetime.date
    today: datetime.date

    @property
    def days(self) -> int:
        """Days from today to the due date (negative: overdue)."""
        return (self.due - self.today).days

    @property
    def reminds_today(self) -> bool:
        """The cadence: so many days before (settings.REMINDER_DAYS_BEFORE), on the day, then
        every settings.REMINDER_OVERDUE_EVERY days while overdue."""
        if self.days > 0:
            return self.days in settings.REMINDER_DAYS_BEFORE
        return -self.days % settings.REMINDER_OVERDUE_EVERY == 0

    @property
    def deadline_notice_today(self) -> bool:
        return self.days == settings.NOTICE_DEADLINE_DAYS


@dataclass
class Owed:
    window: Window
    lines: list[str] = field(default_factory=list)


def windows(today: datetime.date) -> list[Window]:
    """The quarters whose reports are reminded about on `today`, oldest first."""
    ahead = max([*settings.REMINDER_DAYS_BEFORE, settings.NOTICE_DEADLINE_DAYS, 0])
    result = []
    for plan in Plan.objects.filter(year__in=[today.year - 1, today.year]).order_by("year", "pk"):
        if today > plan.report_due(4) + STOP_AFTER:
            continue
        for quarter in (1, 2, 3, 4):
            due = plan.report_due(quarter)
            if (due - today).days <= ahead:
                result.append(Window(plan, quarter, due, today))
    return sorted(result, key=lambda w: (w.due, w.plan.pk))


def link(path: str) -> str:
    return settings.SITE_URL + path


class Command(BaseCommand):
    help = (
        "Reminds office staff and cooperating units of the quarterly reports they owe: "
        "REMINDER_DAYS_BEFORE days before the due date (7 and 1), on it, then every "
        "REMINDER_OVERDUE_EVERY days (7) while overdue; at most one mail a person a day, "
        "listing everything owed with links. Leaves an in-app notice NOTICE_DEADLINE_DAYS "
        "(3) days before. --check lists the people who cannot be mailed. For cron, daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="pretend today is this date (YYYY-MM-DD)")
        parser.add_argument(
            "--check", action="store_true", help="list active users without an email address"
        )

    def handle(self, *args, date=None, check=False, **options):
        if check:
            self.check_addresses()
            return
        today = clock.today_or(date)
        with translation.override(settings.LANGUAGE_CODE):
            self.remind(today)

    def check_addresses(self) -> None:
        missing = (
            get_user_model()
            .objects.filter(is_active=True, email="", groups__name__in=roles.ALL)
            .distinct()
            .order_by("username")
            .prefetch_related("groups", "departments")
        )
        for user in missing:
            held = "、".join(sorted(group.name for group in user.groups.all()))
            units = "、".join(d.name for d in user.departments.all())
            self.stdout.write(f"{user.username}\t{held}\t{units}")
        self.stdout.write(f"{len(missing)} user(s) without an email address.")

    def remind(self, today: datetime.date) -> None:
        open_windows = windows(today)
        if not open_windows:
            self.stdout.write(f"No reports to remind of on {today}.")
            return
        already = set(Reminder.objects.filter(sent_on=today).values_list("user_id", flat=True))
        people = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=[roles.STAFF, roles.UNIT])
            .distinct()
            .order_by("username")
        )
        sent = 0
        for user in people:
            owed = self.owed(user, open_windows, today)
            if not owed:
                continue
            self.deadline_notice(user, owed)
            if user.pk in already or not any(o.window.reminds_today for o in owed):
                continue
            if not user.email:
                self.stderr.write(f"{user.username}: no email address, not reminded")
                continue
            if not self.wants_mail(user):
                continue
            count = sum(len(o.lines) for o in owed)
            body = self.body(user, owed, count)
            try:
                with transaction.atomic():
                    Reminder.objects.create(user=user, sent_on=today, body=body)
                    send_mail(
                        _("【推进计划跟踪】您有%(count)s项进度填报待办") % {"count": count},
                        body,
                        None,
                        [user.email],
                    )
            except IntegrityError:
                continue  # another run reminded this person today
            sent += 1
        self.stdout.write(f"Sent {sent} reminder(s) for {today}.")

    def owed(self, user, open_windows: list[Window], today) -> list[Owed]:
        held = roles.roles_of(user)
        result = []
        for window in open_windows:
            item = Owed(window)
            plan, quarter = window.plan, window.quarter
            if roles.STAFF in held:
                for row in services.pending_rows(services.workspace(user, plan, quarter, today)):
                    measure = row.milestone.measure
                    item.lines.append(
                        f"- {measure.number}.{measure.title} · {row.milestone.label}:"
                        f"{self.state_text(row.state)}\n  "
                        + link(reverse("report-edit", args=[row.milestone.pk, quarter]))
                    )
            if roles.UNIT in held:
                for row in services.unit_workspace(user, plan, quarter, today):
                    if row.contribution is not None or row.approved:
                        continue
                    measure = row.milestone.measure
                    item.lines.append(
                        f"- {measure.number}.{measure.title} · {row.milestone.label}:"
                        f"{_('配合情况未报送')}\n  "
                        + link(reverse("contribution-edit", args=[row.milestone.pk, quarter]))
                    )
            if item.lines:
                result.append(item)
        return result

    def body(self, user, owed: list[Owed], count: int) -> str:
        parts = [
            _("%(name)s,您好:") % {"name": user.get_full_name() or user.username},
            "",
            _("您有以下%(count)s项进度填报待办:") % {"count": count},
        ]
        for item in owed:
            window = item.window
            if window.days > 0:
                when = _("还有%(days)s天") % {"days": window.days}
            elif window.days == 0:
                when = _("今天截止")
            else:
                when = _("已逾期%(days)s天") % {"days": -window.days}
            parts += [
                "",
                _("%(plan)s %(year)s年第%(quarter)s季度(截止日期:%(date)s,%(when)s):")
                % {
                    "plan": window.plan.title,
                    "year": window.plan.year,
                    "quarter": window.quarter,
                    "date": window.due.isoformat(),
                    "when": when,
                },
                *item.lines,
            ]
        parts += ["", _("此邮件每天最多一封;可在“通知 › 邮件设置”中关闭。")]
        return "\n".join(parts)

    def deadline_notice(self, user, owed: list[Owed]) -> None:
        """The in-app notice NOTICE_DEADLINE_DAYS before a due date, once. No mail: the
        reminders' cadence is the mail."""
        for item in owed:
            window = item.window
            if not window.deadline_notice_today:
                continue
            text = _(
                "%(plan)s %(year)s年第%(quarter)s季度报告将于%(date)s截止,您还有%(count)s项未报送。"
            ) % {
                "plan": window.plan.title,
                "year": window.plan.year,
                "quarter": window.quarter,
                "date": window.due.isoformat(),
                "count": len(item.lines),
            }
            path = reverse("unit-work" if roles.UNIT in roles.roles_of(user) else "my-work")
            path += f"?plan={window.plan.pk}&quarter={window.quarter}"
            kind = Notice.Kind.DEADLINE
            if not Notice.objects.filter(user=user, kind=kind, link=path).exists():
                Notice.objects.create(
                    user=user, kind=kind, text=text, link=path, created_at=clock.now()
                )

    @staticmethod
    def wants_mail(user) -> bool:
        return supervision.mail_wanted(user, Notice.Kind.REMINDER)

    @staticmethod
    def state_text(state: str) -> str:
        return {"due": _("未填报"), "draft": _("草稿未提交"), "returned": _("已退回待修改")}[state]
