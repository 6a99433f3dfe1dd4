"""Sample progress for a demo: a plan's year up to a date, written through tasks.services as
offices, units and a reviewer would have written it (drafts, submissions, returns, approvals,
contributions, a few late offices), with every text marked 【示例数据】. For `make run` only:
refused when DEBUG is off, and never loaded by the tests unless a test asks for it."""

import datetime
import random
from fractions import Fraction

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from departments import roles
from departments.models import Department
from plan.models import Milestone, Plan
from plantracker import clock
from tasks import services
from tasks.models import ProgressReport

MARK = "【示例数据】"
DEFAULT_DATE = datetime.date(2014, 9, 20)  # in the 2014 plan's third quarter
# How a milestone fares over the year, with its weight among the plan's milestones.
PROFILES = {
    "on_track": 46,  # at its 序时进度 each quarter, done in its last quarter
    "early": 10,  # a span done a quarter or more early: nothing is owed afterwards
    "slow": 14,  # below its 序时进度 (关注), overdue once its last quarter has passed
    "behind": 10,  # reported 滞后 (预警)
    "not_started": 8,  # approved 未开始 0% at first, then slowly in progress
    "silent": 12,  # the office never reports it
}
Status = ProgressReport.Status


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


class Command(BaseCommand):
    help = (
        "Loads a year of SAMPLE progress (marked 【示例数据】) for a plan up to --date through "
        "the services: drafts, submissions, returns, approvals, contributions, late offices. "
        "For demos (make run); refused when DEBUG is off or when the plan already has reports."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help="the demo's today (YYYY-MM-DD); default PLANTRACKER_DEMO_DATE, else 2014-09-20",
        )
        parser.add_argument("--seed", type=int, default=2014)

    def handle(self, *args, date=None, seed=2014, **options):
        if not settings.DEBUG:
            raise CommandError("load_demo is refused when DEBUG is off (DJANGO_DEBUG).")
        try:
            today = datetime.date.fromisoformat(date) if date else clock.demo_date() or DEFAULT_DATE
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}") from None
        plan = Plan.objects.filter(year=today.year).first()
        if plan is None:
            raise CommandError(f"No plan for {today.year}: load one first (ensure_plan).")
        if ProgressReport.objects.of_plan(plan).exists():
            self.stdout.write(f"{plan} already has reports: sample data not loaded again.")
            return
        reviewer = get_user_model().objects.filter(groups__name=roles.REVIEWER).first()
        if reviewer is None:
            raise CommandError("No reviewer account: run create_demo_users first.")
        with transaction.atomic():
            written = Demo(plan, today, reviewer, random.Random(seed)).load()
        self.stdout.write(
            f"Loaded SAMPLE data ({MARK}) for {plan} up to {today}: {written} reports. "
            f"Serve with PLANTRACKER_DEMO_DATE={today} to see the plan on that day."
        )


class Demo:
    def __init__(self, plan: Plan, today: datetime.date, reviewer, rng: random.Random):
        self.plan, self.today, self.reviewer, self.rng = plan, today, reviewer, rng
        self.staff = {}
        for office in Department.objects.filter(kind=Department.Kind.OFFICE):
            member = office.members.filter(groups__name=roles.STAFF).order_by("pk").first()
            if member:
                self.staff[office.pk] = member
        self.units = {}
        for unit in Department.objects.filter(kind=Department.Kind.UNIT, generic=False):
            member = unit.members.filter(groups__name=roles.UNIT).order_by("pk").first()
            if member:
                self.units[unit.pk] = member
        # Two offices that report late every quarter: the demo's "late offices".
        offices = sorted(
            self.staff,
            key=lambda pk: (
                -Milestone.objects.filter(
                    measure__responsible_offices=pk, measure__work_area__plan=plan
                ).count()
            ),
        )
        self.late_offices = set(offices[1:3])
        self.reports = 0

    def load(self) -> int:
        milestones = (
            Milestone.objects.filter(
                measure__work_area__plan=self.plan, first_quarter__isnull=False
            )
            .select_related("measure__work_area")
            .prefetch_related("measure__responsible_offices", "measure__cooperating_units")
            .order_by("measure__work_area__order", "measure__number", "order")
        )
        now_quarter = (self.today.month - 1) // 3 + 1
        names, weights = zip(*PROFILES.items(), strict=True)
        for milestone in milestones:
            office = next(
                (o for o in milestone.measure.responsible_offices.all() if o.pk in self.staff),
                None,
            )
            if office is None:
                continue  # 相关处室 and the like hold no accounts: nobody reports
            profile = self.rng.choices(names, weights)[0]
            if profile == "early" and milestone.first_quarter == milestone.last_quarter:
                profile = "on_track"
            for quarter in milestone.quarters:
                if quarter > now_quarter:
                    break
                if profile == "silent":
                    break
                done = self.progress(milestone, quarter, profile)
                self.contribute(milestone, quarter)
                self.report(milestone, quarter, office, done, current=quarter == now_quarter)
                if done[0] == Status.DONE:
                    break  # done is done: nothing more is owed
        return self.reports

    def progress(self, milestone, quarter: int, profile: str) -> tuple[str, int]:
        span = milestone.last_quarter - milestone.first_quarter + 1
        step = quarter - milestone.first_quarter + 1
        expected = Fraction(100 * step, span)
        if profile == "early" and step >= max(span - 1, 1):
            return Status.DONE, 100
        if profile in ("on_track", "early"):
            return (Status.DONE, 100) if expected == 100 else (Status.IN_PROGRESS, int(expected))
        if profile == "slow":
            return Status.IN_PROGRESS, int(expected * Fraction(6, 10))
        if profile == "behind":
            return Status.BEHIND, int(expected * Fraction(4, 10))
        if step == 1:  # not_started
            return Status.NOT_STARTED, 0
        return Status.IN_PROGRESS, int(expected * Fraction(3, 10))

    def report(self, milestone, quarter, office, done, *, current: bool) -> None:
        status, percent = done
        user = self.staff[office.pk]
        due = self.plan.report_due(quarter)
        text = f"{MARK}{milestone.text[:40]}:本季度按计划推进,累计完成约{percent}%。"
        problems = ""
        if status in (Status.BEHIND, Status.NOT_STARTED) or percent < 50:
            problems = f"{MARK}受协调事项影响进度偏慢,下一季度加快推进。"
        if current:
            # This quarter's reports are not due yet: some written, fewer reviewed.
            fate = self.rng.choices(
                ["none", "draft", "submitted", "returned", "approved"], [20, 20, 20, 5, 35]
            )[0]
            if fate == "none":
                return
            quarter_start = self.plan.quarter_end(quarter - 1) if quarter > 1 else None
            first = (quarter_start or datetime.date(self.plan.year, 1, 1)) + datetime.timedelta(
                days=60
            )
            written = min(first + datetime.timedelta(days=self.rng.randint(0, 15)), self.today)
            when = at(min(written, self.today - datetime.timedelta(days=3)))
            self.write(
                milestone,
                quarter,
                user,
                status,
                percent,
                text,
                problems,
                when,
                submit=fate != "draft",
            )
            if fate in ("returned", "approved"):
                self.review(
                    milestone,
                    quarter,
                    when + datetime.timedelta(days=1),
                    approve=fate == "approved",
                )
            return
        late = office.pk in self.late_offices
        days = self.rng.randint(3, 18) if late else -self.rng.randint(1, 9)
        when = at(due + datetime.timedelta(days=days))
        self.write(milestone, quarter, user, status, percent, text, problems, when, submit=True)
        if self.rng.random() < 0.12:  # returned once, corrected, then approved
            self.review(milestone, quarter, when + datetime.timedelta(days=2), approve=False)
            report = ProgressReport.objects.get(milestone=milestone, quarter=quarter)
            with clock.travel(when + datetime.timedelta(days=4)):
                services.save_report(
                    user=user,
                    milestone=milestone,
                    quarter=quarter,
                    base_version=report.version,
                    status=status,
                    percent=percent,
                    done_text=text + "(已按审核意见补充佐证材料)",
                    problems_text=problems,
                    submit=True,
                )
            self.review(milestone, quarter, when + datetime.timedelta(days=5), approve=True)
        else:
            self.review(milestone, quarter, when + datetime.timedelta(days=2), approve=True)

    def write(self, milestone, quarter, user, status, percent, text, problems, when, *, submit):
        with clock.travel(when):
            services.save_report(
                user=user,
                milestone=milestone,
                quarter=quarter,
                base_version=0,
                status=status,
                percent=percent,
                done_text=text,
                problems_text=problems,
                submit=submit,
            )
        self.reports += 1

    def review(self, milestone, quarter, when, *, approve: bool) -> None:
        report = ProgressReport.objects.get(milestone=milestone, quarter=quarter)
        with clock.travel(min(when, at(self.today, 9))):
            services.review_report(
                reviewer=self.reviewer,
                report_id=report.pk,
                base_version=report.version,
                approve=approve,
                comment="" if approve else f"{MARK}请补充完成情况的佐证材料。",
            )

    def contribute(self, milestone, quarter: int) -> None:
        for unit in milestone.measure.cooperating_units.all():
            user = self.units.get(unit.pk)
            if user is None or self.rng.random() < 0.3:
                continue  # some units do not contribute every quarter
            due = self.plan.report_due(quarter)
            when = at(min(due - datetime.timedelta(days=self.rng.randint(2, 12)), self.today))
            with clock.travel(min(when, at(self.today, 8))):
                services.save_contribution(
                    user=user,
                    milestone=milestone,
                    quarter=quarter,
                    base_version=0,
                    text=f"{MARK}{unit.name}配合开展相关工作,已报送本季度情况。",
                    figures=f"{MARK}开展活动{self.rng.randint(1, 6)}次",
                )
