from django.core.management.base import BaseCommand, CommandError

from plan.layout import export_plan
from plan.models import Plan
from tasks.models import ProgressReport


class Command(BaseCommand):
    help = (
        "Writes a plan as an xlsx in the document's own table layout, ready to print: the plan "
        "alone, or with one quarter's approved progress (--quarter)."
    )

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--output", required=True, help="the .xlsx file to write")
        parser.add_argument("--title", help="the plan's title, when the year has several plans")
        parser.add_argument(
            "--quarter", type=int, choices=(1, 2, 3, 4), help="add this quarter's progress"
        )

    def handle(self, *args, year, output, title=None, quarter=None, **options):
        plans = Plan.objects.filter(year=year).select_related("issuer")
        if title:
            plans = plans.filter(title=title)
        if not plans:
            raise CommandError(f"No plan for {year}" + (f" titled {title!r}" if title else ""))
        if len(plans) > 1:
            names = ", ".join(p.title for p in plans)
            raise CommandError(f"{year} has several plans ({names}); choose one with --title")
        approved = ProgressReport.objects.approved_by_cell(plans[0])
        export_plan(plans[0], approved, quarter).save(output)
        self.stdout.write(f"Wrote {plans[0]} to {output}.")
