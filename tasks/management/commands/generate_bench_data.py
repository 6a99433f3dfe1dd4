"""Benchmark data: many copies of a plan, each with a year's reports and their history.

The province size (default) is the city's plan plus ~40 districts' plans for ten years
(410 plans); --national is ~330 plans a year for ten years (3,300 plans, about a third
of a million reports and twice as many versions). Everything is written with bulk inserts.
"""

import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from plan.models import Action, Measure, Milestone, Plan, WorkArea
from tasks.models import ProgressReport, ReportVersion

PROVINCE_PLANS = 41 * 10
NATIONAL_PLANS = 330 * 10
BATCH = 50


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--plans", type=int, default=PROVINCE_PLANS)
        parser.add_argument("--national", action="store_true", help=f"{NATIONAL_PLANS} plans")
        parser.add_argument("--seed", type=int, default=2014)
        parser.add_argument("--template-year", type=int, default=2014)

    def handle(self, *args, plans, national, seed, template_year, **options):
        total = NATIONAL_PLANS if national else plans
        template = Plan.objects.filter(year=template_year).first()
        if template is None:
            raise CommandError(f"No {template_year} plan to copy; run ensure_plan first.")
        author = get_user_model().objects.order_by("pk").first()
        if author is None:
            raise CommandError("No user to write the reports as; create one first.")
        rng = random.Random(seed)
        measures = list(
            Measure.objects.filter(work_area__plan=template).prefetch_related(
                "actions", "milestones", "responsible_offices", "cooperating_units"
            )
        )
        areas = list(template.work_areas.all())
        start = Plan.objects.count()
        with tqdm(total=total, unit="plan", disable=options["verbosity"] < 1) as bar:
            for first in range(0, total, BATCH):
                count = min(BATCH, total - first)
                self.copy_batch(template, areas, measures, start + first, count, author, rng)
                bar.update(count)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            f"{Plan.objects.count()} plans, {Milestone.objects.count()} milestones, "
            f"{ProgressReport.objects.count()} reports, {ReportVersion.objects.count()} versions."
        )

    @transaction.atomic
    def copy_batch(self, template, areas, measures, offset, count, author, rng):
        now = timezone.now()
        plans = Plan.objects.bulk_create(
            Plan(
                year=template.year + 1 + (offset + i) % 10,
                title=f"基准测试计划 {offset + i + 1:05d}",
                issuer_id=template.issuer_id,
            )
            for i in range(count)
        )
        new_areas = WorkArea.objects.bulk_create(
            WorkArea(plan=plan, numeral=a.numeral, title=a.title, order=a.order)
            for plan in plans
            for a in areas
        )
        area_of = {(w.plan_id, w.order): w for w in new_areas}
        order_of = {a.pk: a.order for a in areas}
        new_measures = Measure.objects.bulk_create(
            Measure(
                work_area=area_of[(plan.pk, order_of[m.work_area_id])],
                number=m.number,
                title=m.title,
                goal=m.goal,
                executing_department_id=m.executing_department_id,
                cooperating_text=m.cooperating_text,
            )
            for plan in plans
            for m in measures
        )
        pairs = list(zip(new_measures, measures * len(plans), strict=True))
        Measure.responsible_offices.through.objects.bulk_create(
            Measure.responsible_offices.through(measure_id=new.pk, department_id=office.pk)
            for new, old in pairs
            for office in old.responsible_offices.all()
        )
        Measure.cooperating_units.through.objects.bulk_create(
            Measure.cooperating_units.through(measure_id=new.pk, department_id=unit.pk)
            for new, old in pairs
            for unit in old.cooperating_units.all()
        )
        Action.objects.bulk_create(a.copy_for(new) for new, old in pairs for a in old.actions.all())
        milestones = Milestone.objects.bulk_create(
            m.copy_for(new) for new, old in pairs for m in old.milestones.all()
        )
        reports = []
        for milestone in milestones:
            for quarter in milestone.quarters:
                state = rng.choices(["approved", "submitted", "draft", "returned"], [6, 2, 1, 1])[0]
                percent = rng.choice([20, 40, 60, 80, 100])
                status = "done" if percent == 100 else rng.choice(["in_progress", "behind"])
                reports.append(
                    ProgressReport(
                        milestone=milestone,
                        quarter=quarter,
                        state=state,
                        status=status,
                        percent=percent,
                        done_text="按计划推进。" * 5,
                        version=2,
                        updated_by=author,
                        updated_at=now,
                        first_submitted_at=None if state == "draft" else now,
                    )
                )
        reports = ProgressReport.objects.bulk_create(reports, batch_size=2000)
        ReportVersion.objects.bulk_create(
            (
                ReportVersion(
                    report=r,
                    version=v,
                    event="saved" if v == 1 else "submitted",
                    by=author,
                    at=now,
                    state=r.state,
                    status=r.status,
                    percent=r.percent,
                    done_text=r.done_text,
                )
                for r in reports
                for v in (1, 2)
            ),
            batch_size=4000,
        )
