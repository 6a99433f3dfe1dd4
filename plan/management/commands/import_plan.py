from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from departments.models import Department
from plan.intake.labels import read_label
from plan.intake.model import FIELDS
from plan.intake.service import intake
from plan.models import Plan

QUARTER = "一二三四"


def span(first, last) -> str:
    if first is None:
        return "unscheduled"
    return f"Q{first}" if first == last else f"Q{first}-Q{last}"


class Command(BaseCommand):
    help = (
        "Loads a plan from a file: xlsx or csv (the export layout or any layout with "
        "recognisable headers), a Word .docx table, or the published text (.txt/.html). Prints "
        "a preview; with --dry-run writes nothing; with --revise PLAN revises that plan "
        "(计划调整), keeping every report. Exits non-zero listing every problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="write nothing")
        parser.add_argument("--revise", metavar="PLAN", help="the plan's id, or its year if unique")
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="map a column: FIELD is one of " + ", ".join(k for k, _v in FIELDS),
        )
        parser.add_argument(
            "--department",
            action="append",
            default=[],
            metavar="WRITTEN=ANSWER",
            help="ANSWER: new, text (not a department), or the name of an existing department",
        )
        parser.add_argument(
            "--quarters",
            action="append",
            default=[],
            metavar="LABEL=F-L",
            help="quarters for a label, e.g. 第一阶段=1-2, or LABEL=none (unscheduled)",
        )
        parser.add_argument("--issuer", default="", help="issuer when the file names none")
        parser.add_argument("--title", default="", help="the plan's title, over the file's")
        parser.add_argument("--year", type=int, help="the plan's year, over the file's")

    def handle(self, *args, file, dry_run=False, revise=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        plan = self.plan_to_revise(revise) if revise else None
        mapping = dict(self.pairs(options["column"], "--column"))
        fields = {k for k, _v in FIELDS}
        for header, chosen in mapping.items():
            if chosen not in fields:
                raise CommandError(f"--column {header}={chosen}: FIELD is one of {sorted(fields)}")
        decisions = {
            written: self.decision(answer) for written, answer in self.pairs(options["department"])
        }
        quarters = {label: self.quarters(value) for label, value in self.pairs(options["quarters"])}
        with tqdm(desc="measures", unit="", disable=options["verbosity"] < 2) as bar:
            result = intake(
                path.read_bytes(),
                mapping=mapping,
                overrides={"title": options["title"], "year": options["year"]},
                decisions=decisions,
                quarters=quarters,
                revise=plan,
                file_name=path.name,
                dry_run=dry_run,
                default_issuer=options["issuer"],
                progress=bar.update,
            )
        self.preview(result, dry_run, plan)
        if result.problems:
            raise CommandError(
                f"{file}: {len(result.problems)} problem(s), nothing written:\n"
                + "\n".join(result.problems)
            )

    def plan_to_revise(self, value: str) -> Plan:
        if value.isdecimal() and Plan.objects.filter(pk=int(value)).exists():
            return Plan.objects.get(pk=int(value))
        plans = list(Plan.objects.filter(year=int(value))) if value.isdecimal() else []
        if len(plans) == 1:
            return plans[0]
        if len(plans) > 1:
            ids = ", ".join(f"{p.pk} ({p.title})" for p in plans)
            raise CommandError(
                f"--revise {value}: {len(plans)} plans that year; give the id: {ids}"
            )
        raise CommandError(f"--revise {value}: no plan with that id or year")

    def pairs(self, values, option="--department"):
        for value in values:
            if "=" not in value:
                raise CommandError(f"{option} {value}: write it as NAME=VALUE")
            yield tuple(part.strip() for part in value.split("=", 1))

    def decision(self, answer: str) -> str:
        if answer in ("new", "text"):
            return "new:" if answer == "new" else "text"
        department = Department.objects.filter(name=answer).first()
        if department is None:
            raise CommandError(f"--department …={answer}: no department of that name")
        return f"map:{department.pk}"

    def quarters(self, value: str):
        if value.lower() == "none":
            return (None, None)
        parts = value.split("-")
        if not all(p.isdigit() for p in parts) or not 1 <= int(parts[0]) <= int(parts[-1]) <= 4:
            raise CommandError(f"--quarters …={value}: write F-L with 1 ≤ F ≤ L ≤ 4, or none")
        return int(parts[0]), int(parts[-1])

    def preview(self, result, dry_run: bool, plan) -> None:
        out = self.stdout.write
        parsed = result.parsed
        counts = parsed.counts
        out(
            f"Read {parsed.kind or 'file'}: {parsed.year or '?'} {parsed.title or '?'}: "
            f"{counts['work_areas']} work areas, {counts['measures']} measures, "
            f"{counts['actions']} actions, {counts['milestones']} milestones."
        )
        for column in parsed.columns:
            out(f"  column {column.header} → {column.field or 'NOT RECOGNISED'}")
        for area in parsed.areas:
            out(f"({area.numeral}){area.title}")
            for measure in area.measures:
                out(f"  {measure.number}.{measure.title} — {len(measure.actions)} actions")
                for m in measure.milestones:
                    flag = "" if m.known else " (not recognised)"
                    out(f"    {m.label} → {span(m.first, m.last)}{flag}")
        for label in {m.label for m in parsed.milestones if read_label(m.label).problem}:
            out(f"  label {label}: {read_label(label).problem}")
        if result.matching:
            for question in result.matching.questions:
                default = question.default
                if question.suggestion is not None:
                    out(
                        f"Did you mean {question.suggestion.name} for {question.written}? "
                        f"Taken as {question.suggestion.name} "
                        f"(--department {question.written}=new to create it)."
                    )
                elif question.same_as:
                    out(
                        f"Did you mean {question.same_as} for {question.written}? Taken as one "
                        f"unit, {question.written} as its other spelling "
                        f"(--department {question.written}=new to create it apart)."
                    )
                elif default == "text":
                    out(
                        f"Not a department, kept as text: {question.written} "
                        f"(--department {question.written}=new to create it)."
                    )
        for note in result.notes:
            out(f"Note: {note}")
        if result.outcome is None:
            return
        outcome = result.outcome
        verb = "Would" if dry_run else "Did"
        if plan is None:
            created = "Would create" if dry_run else "Created"
            out(f"{created} plan {outcome.plan.year} {outcome.plan.title}.")
        else:
            tally = outcome.tally
            out(
                f"{verb} revise plan {plan.year} {plan.title}: {tally['added']} added, "
                f"{tally['changed']} changed, {tally['removed']} removed, "
                f"{tally['retired']} retired (kept with their reports)."
            )
            for change in outcome.changes:
                out(f"  {change}")
        for department in outcome.created_departments:
            created = "Would create" if dry_run else "Created"
            out(f"{created} department {department.name} ({department.kind})")
        if not outcome.created_departments:
            out("Every department it names already exists.")
