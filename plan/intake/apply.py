"""Writing a parsed plan: a new plan, or a revision of a live one (计划调整), in one
transaction. A dry run does the same work and rolls it back, so the preview shows exactly
what confirming will do."""

from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Department
from spreadsheets.reading import SheetError

from ..models import Action, Measure, Milestone, Plan, PlanRevision, WorkArea
from .match import Matching, match_departments, names_in, resolve
from .model import ParsedPlan


class Refused(SheetError):
    """The plan cannot be written: every problem, each on its line."""

    def __init__(self, problems: list):
        self.problems = [str(p) for p in problems]
        super().__init__("\n".join(self.problems))


class DryRun(Exception):
    pass


@dataclass
class Outcome:
    plan: Plan | None
    counts: dict
    created_departments: list[Department] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # a revision's differences, one a line
    tally: dict = field(default_factory=dict)  # added / changed / removed / retired
    revision: PlanRevision | None = None


def apply_quarters(parsed: ParsedPlan, quarters: dict) -> None:
    """An admin's quarters for a label, over what the label reads as: keyed by the label
    (every milestone so labelled) or by (label, first, last) as read (those milestones only,
    so a phase's quarters set per measure stay apart). (None, None) is unscheduled."""
    if not quarters:
        return
    for milestone in parsed.milestones:
        key = (milestone.label, milestone.first, milestone.last)
        chosen = quarters.get(key, quarters.get(milestone.label))
        if chosen is not None:
            milestone.read_as = (milestone.first, milestone.last)
            milestone.first, milestone.last = chosen
            milestone.known = True


def children(measure: Measure, pm) -> tuple[list[Action], list[Milestone]]:
    """The unsaved actions and milestones of a parsed measure, under `measure`."""
    actions = [Action(measure=measure, number=a.number, text=a.text) for a in pm.actions]
    milestones = [
        Milestone(
            measure=measure,
            order=order,
            label=m.label,
            text=m.text,
            first_quarter=m.first,
            last_quarter=m.last,
            retired_on=m.retired_on,
        )
        for order, m in enumerate(pm.milestones, start=1)
    ]
    return actions, milestones


def load(
    parsed: ParsedPlan,
    *,
    decisions: dict | None = None,
    generic: set | None = None,
    quarters: dict | None = None,
    revise: Plan | None = None,
    user=None,
    file_name: str = "",
    data: bytes | None = None,
    dry_run: bool = False,
    default_issuer: str = "",
    matching: Matching | None = None,
    progress=None,
) -> Outcome:
    """Creates the plan `parsed` describes, or revises `revise` to it; Refused lists every
    problem when it cannot. Nothing is written on a dry run or a refusal."""
    apply_quarters(parsed, quarters or {})
    if parsed.errors:
        raise Refused(parsed.errors)
    matching = matching or match_departments(parsed)
    outcome = None
    try:
        with transaction.atomic():
            resolved = resolve(matching, decisions or {}, generic)
            writer = Writer(parsed, resolved, matching, progress)
            if revise is None:
                outcome = writer.create(default_issuer)
            else:
                outcome = writer.revise(Plan.objects.select_for_update().get(pk=revise.pk))
            if not dry_run:
                outcome.revision = PlanRevision(
                    plan=outcome.plan,
                    kind=PlanRevision.Kind.CREATED if revise is None else PlanRevision.Kind.REVISED,
                    by=user if user is not None and user.is_authenticated else None,
                    file_name=file_name[:200],
                    counts={**outcome.counts, **outcome.tally},
                    changes=outcome.changes,
                )
                if data is not None:
                    outcome.revision.file.save(safe_name(file_name), ContentFile(data), save=False)
                outcome.revision.save()
            if dry_run:
                raise DryRun
    except DryRun:
        pass
    return outcome


def safe_name(name: str) -> str:
    stem = "".join(ch for ch in name if ch.isalnum() or ch in "._-")[-80:]
    return stem or "plan"


class Writer:
    def __init__(self, parsed: ParsedPlan, resolved: dict, matching: Matching, progress):
        self.parsed, self.resolved, self.matching = parsed, resolved, matching
        self.created: list[Department] = []
        self.progress = progress

    # --- Departments ---------------------------------------------------------------------

    def prepare_departments(self) -> None:
        """Every new department at once, in the order the plan names them, and every new
        spelling of an existing one as its alias: a bounded number of queries."""
        new = [
            (written, found[1], found[2])
            for written, found in self.resolved.items()
            if isinstance(found, tuple) and found[0] == "new"
        ]
        spellings: dict[str, list[str]] = {}  # other spellings the admin said are the same
        for written, found in self.resolved.items():
            if isinstance(found, tuple) and found[0] == "alias":
                spellings.setdefault(found[1], []).append(written)
        if new:
            start = max(Department.objects.values_list("order", flat=True), default=0) + 1
            made = []
            for offset, (written, kind, generic) in enumerate(new):
                sheet = self.matching.sheet.get(written)
                aliases = list(sheet.aliases if sheet else [])
                aliases += [a for a in spellings.get(written, []) if a not in aliases]
                made.append(
                    Department(
                        name=written,
                        kind=kind,
                        order=start + offset,
                        aliases=aliases,
                        generic=generic,
                    )
                )
            self.created = Department.objects.bulk_create(made)
            for department in self.created:
                self.resolved[department.name] = department
        spelled = {}
        for name, others in spellings.items():  # another spelling of an existing department
            found = self.resolved.get(name)
            if isinstance(found, Department):
                for written in others:
                    self.resolved[written] = found
        for written, found in self.resolved.items():
            if (
                isinstance(found, Department)
                and written != found.name
                and written not in found.aliases
            ):
                found.aliases = [*found.aliases, written]  # next time it matches by alias
                spelled[found.pk] = found
        if spelled:
            Department.objects.bulk_update(spelled.values(), ["aliases"])

    def department(self, written: str) -> Department | None:
        found = self.resolved.get(written)
        if isinstance(found, tuple) and found[0] == "alias":
            return self.department(found[1])
        return found if isinstance(found, Department) else None

    def departments(self, text: str) -> list[Department]:
        found = []
        for name in names_in(text):
            department = self.department(name)
            if department is not None and department not in found:
                found.append(department)
        return found

    def measure_departments(self, pm, issuer: Department) -> tuple:
        executing = self.departments(pm.executing)
        responsible = self.departments(pm.responsible)
        if not responsible:
            raise Refused(
                [
                    _("%(where)s:工作措施%(n)s的责任处室“%(text)s”不是部门名称。")
                    % {"where": pm.where, "n": pm.number, "text": pm.responsible}
                ]
            )
        return (
            (executing[0] if executing else issuer),
            responsible,
            self.departments(pm.cooperating),
        )

    # --- A new plan ----------------------------------------------------------------------

    def create(self, default_issuer: str) -> Outcome:
        parsed = self.parsed
        if Plan.objects.filter(year=parsed.year, title=parsed.title).exists():
            raise Refused(
                [
                    _(
                        "计划“%(title)s”(%(year)s年)已存在。如要按新文件调整它,请在该计划的"
                        "管理页面使用“计划调整”(命令行:--revise)。"
                    )
                    % {"title": parsed.title, "year": parsed.year}
                ]
            )
        self.prepare_departments()
        issuer = self.issuer(default_issuer)
        plan = Plan.objects.create(
            year=parsed.year, title=parsed.title, issued_on=parsed.issued_on, issuer=issuer
        )
        areas = WorkArea.objects.bulk_create(
            [
                WorkArea(plan=plan, numeral=pa.numeral, title=pa.title, order=order)
                for order, pa in enumerate(parsed.areas, start=1)
            ]
        )
        measures, links = [], []
        for area, pa in zip(areas, parsed.areas, strict=True):
            for pm in pa.measures:
                executing, responsible, cooperating = self.measure_departments(pm, issuer)
                measures.append(
                    Measure(
                        work_area=area,
                        number=pm.number,
                        title=pm.title,
                        goal=pm.goal,
                        executing_department=executing,
                        cooperating_text=pm.cooperating,
                    )
                )
                links.append((pm, responsible, cooperating))
                if self.progress:
                    self.progress(1)
        measures = Measure.objects.bulk_create(measures, batch_size=500)
        offices = Measure.responsible_offices.through
        units = Measure.cooperating_units.through
        office_rows, unit_rows, actions, milestones = [], [], [], []
        for measure, (pm, responsible, cooperating) in zip(measures, links, strict=True):
            office_rows += [offices(measure=measure, department=d) for d in responsible]
            unit_rows += [units(measure=measure, department=d) for d in cooperating]
            new_actions, new_milestones = children(measure, pm)
            actions += new_actions
            milestones += new_milestones
        offices.objects.bulk_create(office_rows, batch_size=1000)
        units.objects.bulk_create(unit_rows, batch_size=1000)
        Action.objects.bulk_create(actions, batch_size=500)
        Milestone.objects.bulk_create(milestones, batch_size=500)
        return Outcome(plan, parsed.counts, self.created)

    def issuer(self, default: str) -> Department:
        written = self.parsed.issuer or default
        issuer = self.department(written) if written else None
        if issuer is None:
            issuer = (
                Department.objects.filter(kind=Department.Kind.BUREAU).order_by("order").first()
            )
        if issuer is None:
            raise Refused([_("文件中没有写明印发单位,请指定印发单位。")])
        return issuer

    def new_measure(self, area: WorkArea, pm, issuer: Department) -> Measure:
        executing, responsible, cooperating = self.measure_departments(pm, issuer)
        measure = Measure.objects.create(
            work_area=area,
            number=pm.number,
            title=pm.title,
            goal=pm.goal,
            executing_department=executing,
            cooperating_text=pm.cooperating,
        )
        measure.responsible_offices.set(responsible)
        measure.cooperating_units.set(cooperating)
        return measure

    # --- A revision (计划调整) -----------------------------------------------------------

    def revise(self, plan: Plan) -> Outcome:
        parsed = self.parsed
        today = timezone.localdate()
        changes: list[str] = []
        tally = {"added": 0, "changed": 0, "removed": 0, "retired": 0}

        def note(kind: str, text: str) -> None:
            tally[kind] = tally.get(kind, 0) + 1
            changes.append(text)

        self.prepare_departments()
        if plan.year != parsed.year:
            raise Refused(
                [
                    _("文件是“%(file)s”(%(fy)s年),不是要调整的计划“%(plan)s”(%(py)s年)。")
                    % {"file": parsed.title, "fy": parsed.year, "plan": plan.title, "py": plan.year}
                ]
            )
        if plan.title != parsed.title:
            note("changed", _("计划标题改为“%(title)s”") % {"title": parsed.title})
            plan.title = parsed.title
            plan.save(update_fields=["title"])
        issuer = plan.issuer
        areas = {a.numeral: a for a in plan.work_areas.all()}
        measures = {
            m.number: m
            for m in Measure.objects.filter(work_area__plan=plan)
            .select_related("work_area", "executing_department")
            .prefetch_related("responsible_offices", "cooperating_units", "actions", "milestones")
        }
        kept_ids = held_milestones(
            Milestone.objects.filter(measure__work_area__plan=plan).values_list("pk", flat=True)
        )
        positions = {pa.numeral: order for order, pa in enumerate(parsed.areas, start=1)}
        if any(positions.get(numeral) != area.order for numeral, area in areas.items()):
            # Orders out of the way first: areas come in another order, or some are gone.
            for offset, area in enumerate(areas.values(), start=1):
                area.order = 1000 + offset
            WorkArea.objects.bulk_update(areas.values(), ["order"])
        seen_measures = set()
        for order, pa in enumerate(parsed.areas, start=1):
            area = areas.get(pa.numeral)
            if area is None:
                area = WorkArea.objects.create(
                    plan=plan, numeral=pa.numeral, title=pa.title, order=order
                )
                areas[pa.numeral] = area
                note("added", _("新增工作领域(%(n)s)%(t)s") % {"n": pa.numeral, "t": pa.title})
            else:
                if area.title != pa.title:
                    note(
                        "changed",
                        _("工作领域(%(n)s)名称改为“%(t)s”") % {"n": pa.numeral, "t": pa.title},
                    )
                if (area.title, area.order) != (pa.title, order):
                    area.title, area.order = pa.title, order
                    area.save(update_fields=["title", "order"])
            for pm in pa.measures:
                seen_measures.add(pm.number)
                measure = measures.get(pm.number)
                if measure is None:
                    measure = self.new_measure(area, pm, issuer)
                    note("added", _("新增工作措施%(n)s.%(t)s") % {"n": pm.number, "t": pm.title})
                    new_actions, new_milestones = children(measure, pm)
                    Action.objects.bulk_create(new_actions)
                    Milestone.objects.bulk_create(new_milestones)
                    continue
                self.revise_measure(measure, area, pm, issuer, kept_ids, today, note)
                if self.progress:
                    self.progress(1)
        for number, measure in measures.items():
            if number in seen_measures:
                continue
            held = [m for m in measure.milestones.all() if m.pk in kept_ids]
            if not held:
                measure.delete()
                note("removed", _("删除工作措施%(n)s.%(t)s") % {"n": number, "t": measure.title})
                continue
            for milestone in measure.milestones.all():
                if milestone.retired_on is None and milestone.pk in kept_ids:
                    milestone.retired_on = today
                    milestone.save(update_fields=["retired_on"])
                    note(
                        "retired",
                        _("工作措施%(n)s的“%(l)s”已有进展报告,调整取消(保留)")
                        % {"n": number, "l": milestone.label},
                    )
                elif milestone.retired_on is None:
                    milestone.delete()
        # Areas the file no longer has: deleted when empty, kept (after the others) otherwise.
        last = len(parsed.areas)
        for numeral, area in areas.items():
            if numeral not in positions:
                if area.measures.exists():
                    last += 1
                    area.order = last
                    area.save(update_fields=["order"])
                else:
                    area.delete()
                    note(
                        "removed",
                        _("删除工作领域(%(n)s)%(t)s") % {"n": area.numeral, "t": area.title},
                    )
        return Outcome(plan, parsed.counts, self.created, changes, tally)

    def revise_measure(self, measure, area, pm, issuer, kept_ids, today, note) -> None:
        executing, responsible, cooperating = self.measure_departments(pm, issuer)
        label = f"{pm.number}.{pm.title}"
        fields = {
            "title": pm.title,
            "goal": pm.goal,
            "cooperating_text": pm.cooperating,
            "work_area_id": area.pk,
            "executing_department_id": executing.pk,
        }
        differ = [name for name, value in fields.items() if getattr(measure, name) != value]
        if differ:
            for name in differ:
                setattr(measure, name, fields[name])
            measure.save(update_fields=[f.removesuffix("_id") for f in differ])
            note("changed", _("工作措施%(m)s的内容有修改") % {"m": label})
        if set(measure.responsible_offices.all()) != set(responsible):
            measure.responsible_offices.set(responsible)
            note(
                "changed", _("工作措施%(m)s的责任处室改为%(o)s") % {"m": label, "o": pm.responsible}
            )
        if set(measure.cooperating_units.all()) != set(cooperating):
            measure.cooperating_units.set(cooperating)
        # Actions by number.
        old = {a.number: a for a in measure.actions.all()}
        new = {a.number: a for a in pm.actions}
        for number, action in old.items():
            if number not in new:
                action.delete()
                note("removed", _("工作措施%(m)s删除具体措施%(n)s") % {"m": pm.number, "n": number})
            elif action.text != new[number].text:
                action.text = new[number].text
                action.save(update_fields=["text"])
                note("changed", _("工作措施%(m)s修改具体措施%(n)s") % {"m": pm.number, "n": number})
        Action.objects.bulk_create(
            [Action(measure=measure, number=n, text=a.text) for n, a in new.items() if n not in old]
        )
        for number in new.keys() - old.keys():
            note("added", _("工作措施%(m)s新增具体措施%(n)s") % {"m": pm.number, "n": number})
        self.revise_milestones(measure, pm, kept_ids, today, note)

    def revise_milestones(self, measure, pm, kept_ids, today, note) -> None:
        """Milestones paired by label where a label is unique on both sides, then by position;
        a changed one keeps its reports; a removed one with reports is retired, never deleted."""
        current = [m for m in measure.milestones.all() if m.retired_on is None]
        retired = [m for m in measure.milestones.all() if m.retired_on is not None]
        wanted = [m for m in pm.milestones if m.retired_on is None]
        pairs: dict[int, Milestone] = {}
        old_labels = [m.label for m in current]
        new_labels = [m.label for m in wanted]
        for index, m in enumerate(wanted):
            if new_labels.count(m.label) == 1 and old_labels.count(m.label) == 1:
                pairs[index] = current[old_labels.index(m.label)]
        rest = [m for m in current if m not in pairs.values()]
        for index in range(len(wanted)):
            if index not in pairs and rest and new_labels.count(wanted[index].label) != 1:
                pairs[index] = rest.pop(0)
            elif index not in pairs and rest and wanted[index].label not in old_labels:
                candidate = next((m for m in rest if m.label not in new_labels), None)
                if candidate is not None:
                    pairs[index] = candidate
                    rest.remove(candidate)
        who = f"{pm.number}"
        newly_retired = []
        for m in rest:
            if m.pk in kept_ids:
                m.retired_on = today
                retired.append(m)
                newly_retired.append(m)
                note(
                    "retired",
                    _("工作措施%(m)s的“%(l)s”已有进展报告,调整取消(保留)")
                    % {"m": who, "l": m.label},
                )
            else:
                m.delete()
                note("removed", _("工作措施%(m)s删除进度节点“%(l)s”") % {"m": who, "l": m.label})
        # As the file has them, retired ones after; written only where something changed.
        final, dirty, created = [], set(), []
        for index, pmile in enumerate(wanted, start=1):
            m = pairs.get(index - 1)
            values = {
                "label": pmile.label,
                "text": pmile.text,
                "first_quarter": pmile.first,
                "last_quarter": pmile.last,
            }
            if (
                m is not None
                and pmile.first is None
                and pmile.read_as is None
                and m.label == pmile.label
                and m.first_quarter is not None
            ):  # a phase an admin scheduled: the file has no quarters for it, keep the admin's
                values["first_quarter"], values["last_quarter"] = m.first_quarter, m.last_quarter
            if m is None:
                created.append(Milestone(measure=measure, order=index, **values))
                note("added", _("工作措施%(m)s新增进度节点“%(l)s”") % {"m": who, "l": pmile.label})
                continue
            if any(getattr(m, k) != v for k, v in values.items()):
                note(
                    "changed", _("工作措施%(m)s修改进度节点“%(l)s”") % {"m": who, "l": pmile.label}
                )
                span = range(values["first_quarter"] or 0, (values["last_quarter"] or -1) + 1)
                outside = sorted(q for q in kept_ids.get(m.pk, ()) if q not in span)
                if outside:
                    note(
                        "warned",
                        _(
                            "注意:工作措施%(m)s的“%(l)s”已有第%(q)s季度的报告,调整后不在它的"
                            "季度范围内(报告保留,不再计入统计)。"
                        )
                        % {"m": who, "l": pmile.label, "q": "、".join(map(str, outside))},
                    )
                for k, v in values.items():
                    setattr(m, k, v)
                dirty.add(m.pk)
            final.append((m, index))
        final += [(m, offset) for offset, m in enumerate(retired, start=len(wanted) + 1)]
        dirty |= {m.pk for m in newly_retired}
        fields = ["label", "text", "first_quarter", "last_quarter", "order", "retired_on"]
        if any(m.order != order for m, order in final):
            # Orders out of the way first: (measure, order) is unique at every step.
            for offset, (m, _order) in enumerate(final, start=1):
                m.order = 1000 + offset
            Milestone.objects.bulk_update([m for m, _o in final], ["order"])
            for m, order in final:
                m.order = order
            Milestone.objects.bulk_update([m for m, _o in final], fields)
        elif dirty:
            Milestone.objects.bulk_update([m for m, _o in final if m.pk in dirty], fields)
        if created:
            Milestone.objects.bulk_create(created)


def held_milestones(ids) -> dict[int, set[int]]:
    """The milestones something refers to (reports, contributions …), never deleted, each
    with the quarters of what refers to it. Found through the relations, so the plan app
    needs no import of the apps above it."""
    held: dict[int, set[int]] = {}
    ids = list(ids)
    for relation in Milestone._meta.related_objects:
        if not relation.one_to_many:
            continue
        model, name = relation.related_model, relation.field.name
        quarterly = any(f.name == "quarter" for f in model._meta.concrete_fields)
        rows = model._default_manager.filter(**{f"{name}__in": ids}).values_list(
            name, "quarter" if quarterly else name
        )
        for milestone_id, quarter in rows.distinct():
            quarters = held.setdefault(milestone_id, set())
            if quarterly:
                quarters.add(quarter)
    return held
