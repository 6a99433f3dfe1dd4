"""One path from an uploaded file to a plan, for the command line and the admin alike:
read, match departments, then a dry run (the preview) or the real write."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from ..models import Plan
from .apply import Outcome, Refused, apply_quarters, load
from .labels import read_label
from .match import Matching, match_departments
from .model import ParsedPlan
from .readers import read_plan


@dataclass
class Intake:
    parsed: ParsedPlan
    matching: Matching | None = None
    outcome: Outcome | None = None
    problems: list[str] = field(default_factory=list)  # blocking, each with where it is
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.outcome is not None

    def labels(self) -> list[dict]:
        """Each label once (per quarters it maps to), for the admin to check or change."""
        seen = {}
        for m in self.parsed.milestones:
            was = m.read_as or (m.first, m.last)
            key = (m.label, *was)
            if key not in seen:
                reading = read_label(m.label)
                seen[key] = {
                    "label": m.label,
                    "was": "-".join("" if q is None else str(q) for q in was),
                    "first": m.first,
                    "last": m.last,
                    "known": m.known and not reading.problem,
                    "count": 0,
                }
            seen[key]["count"] += 1
        return list(seen.values())


def intake(
    data: bytes,
    *,
    mapping: dict | None = None,
    overrides: dict | None = None,
    decisions: dict | None = None,
    generic: set | None = None,
    quarters: dict | None = None,
    revise: Plan | None = None,
    user=None,
    file_name: str = "",
    dry_run: bool = True,
    default_issuer: str = "",
    progress=None,
) -> Intake:
    parsed = read_plan(data, mapping=mapping, overrides=overrides)
    apply_quarters(parsed, quarters or {})
    result = Intake(parsed, notes=[str(p) for p in parsed.notes])
    if parsed.errors:
        result.problems = [str(p) for p in parsed.errors]
        return result
    if revise is None and parsed.year is not None:
        others = list(
            Plan.objects.filter(year=parsed.year)
            .exclude(title=parsed.title)
            .values_list("title", flat=True)
        )
        if others:
            result.notes.insert(
                0,
                _(
                    "%(year)s年度已有计划“%(titles)s”。如果这个文件是它的调整版本,请不要另建"
                    "新计划,而在该计划的管理页面使用“计划调整”(命令行:--revise)。"
                )
                % {"year": parsed.year, "titles": "”“".join(others)},
            )
    result.matching = match_departments(parsed)
    try:
        result.outcome = load(
            parsed,
            decisions=decisions,
            generic=generic,
            revise=revise,
            user=user,
            file_name=file_name,
            data=None if dry_run else data,
            dry_run=dry_run,
            default_issuer=default_issuer,
            matching=result.matching,
            progress=progress,
        )
    except Refused as refused:
        result.problems = refused.problems
    return result
