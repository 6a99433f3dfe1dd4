from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plan.models import Plan
from plantracker import clock
from supervision import bulletin


class Command(BaseCommand):
    help = "Writes a plan's quarterly bulletin (督查通报) as a Word document."

    def add_arguments(self, parser):
        parser.add_argument("plan", help="the plan's id, or its year")
        parser.add_argument("--quarter", type=int, required=True, choices=[1, 2, 3, 4])
        parser.add_argument("--output", required=True, help="the .docx file to write")
        parser.add_argument("--date", help="the bulletin's date (YYYY-MM-DD), today if absent")

    def handle(self, *args, plan, quarter, output, date=None, **options):
        found = None
        if plan.isdecimal():
            found = Plan.objects.filter(pk=int(plan)).first() or (
                Plan.objects.filter(year=int(plan)).first() if len(plan) == 4 else None
            )
        if found is None:
            raise CommandError(f"No plan with id or year {plan!r}.")
        today = clock.today_or(date)
        path = Path(output)
        if path.suffix.lower() != ".docx":
            raise CommandError("--output must end in .docx")
        path.write_bytes(bulletin.render(found, quarter, today))
        self.stdout.write(f"Wrote {path} ({found.title}, quarter {quarter}).")
