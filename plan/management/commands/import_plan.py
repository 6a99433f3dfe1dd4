from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from plan.layout import import_plan
from spreadsheets.reading import SheetError


class Command(BaseCommand):
    help = (
        "Creates a plan from an xlsx in the document's table layout (as export_plan writes it; "
        "progress columns are ignored). With --dry-run, says what it would create."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="write nothing")

    def handle(self, *args, file, dry_run=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            with tqdm(desc="measures", unit="", disable=options["verbosity"] < 1) as bar:
                result = import_plan(path.read_bytes(), dry_run=dry_run, progress=bar.update)
        except SheetError as error:
            raise CommandError(f"{file}: {error.message}") from None
        plan, counts = result.plan, result.counts
        verb = "Would create" if dry_run else "Created"
        self.stdout.write(
            f"{verb} plan {plan.year} {plan.title}: {counts['work_areas']} work areas, "
            f"{counts['measures']} measures, {counts['actions']} actions, "
            f"{counts['milestones']} milestones."
        )
        for department in result.created_departments:
            self.stdout.write(f"{verb} department {department.name} ({department.kind})")
        if not result.created_departments:
            self.stdout.write("Every department it names already exists.")
