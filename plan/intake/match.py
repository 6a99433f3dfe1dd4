"""The departments a plan names: by name, by alias, then by a close spelling ("did you mean
…"); free text in a department cell (局内:条法司牵头,相关部门参与) is cut into the names it
holds, and what is no department's name is kept as text only."""

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from departments.models import Department

from .model import ParsedPlan

SEPARATORS = re.compile(r"[、,,;;/\n]|以及|及(?=[^\s]{2,})")
PREFIX = re.compile(r"^[^::]{1,8}[::]")
ROLE = re.compile(r"(?:牵头|参与|配合|负责|协助|协办|等单位|等部门|等)+$")
ORGANISATION = re.compile(
    r"(?:局|处|室|科|委|会|中心|部门|单位|机构|协会|园区|办|院|所|厅|司|部|政府|企业|银行"
    r"|公司|基地|平台|联盟|集团|基金会)$"
)
GENERIC = re.compile(r"相关|^下属|^局各|^各处室")  # 相关处室, 市级相关部门, 下属机构, 局各处室
CLOSE = 80  # rapidfuzz ratio from which a spelling is "did you mean"
FIELD_KINDS = {
    "issuer": Department.Kind.BUREAU,
    "executing": Department.Kind.BUREAU,
    "responsible": Department.Kind.OFFICE,
    "cooperating": Department.Kind.UNIT,
}


def names_in(text: str) -> list[str]:
    """The names a department cell holds, without 局内: or 牵头/参与."""
    names = []
    for part in SEPARATORS.split(text or ""):
        part = ROLE.sub("", PREFIX.sub("", part.strip())).strip()
        if part and part not in names:
            names.append(part)
    return names


@dataclass
class Question:
    """A name the plan writes that is no department's name or alias yet."""

    written: str
    field: str
    kind: str
    where: str
    suggestion: Department | None = None
    score: int = 0
    looks_like_text: bool = False
    same_as: str = ""  # another new name it is a close spelling of: one unit, two spellings
    generic: bool = False  # as a new department: 泛指 (several units, no accounts of its own)

    @property
    def default(self) -> str:
        if self.suggestion is not None:
            return f"map:{self.suggestion.pk}"
        if self.same_as:
            return f"same:{self.same_as}"
        if self.looks_like_text:
            return "text"
        return f"new:{self.kind}"


@dataclass
class Matching:
    """Every name of the plan resolved: known[name] is a department; questions are the
    others, answered by `decisions` (written → "new:<kind>" | "map:<id>" | "text")."""

    known: dict[str, Department] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    sheet: dict = field(default_factory=dict)  # name → ParsedDepartment from the 部门 sheet
    alias_of: dict = field(default_factory=dict)  # a spelling the 部门 sheet lists → its name


def match_departments(parsed: ParsedPlan, departments=None) -> Matching:
    departments = list(departments if departments is not None else Department.objects.all())
    spellings = {}
    for department in departments:
        spellings[department.name] = department
        for alias in department.aliases:
            spellings.setdefault(alias, department)
    matching = Matching(sheet={d.name: d for d in parsed.departments})
    for sheet in parsed.departments:  # aliases our own export carries match too
        if sheet.name in spellings:
            for alias in sheet.aliases:
                spellings.setdefault(alias, spellings[sheet.name])
    choices = {d.name: d for d in departments}
    asked = set()

    def consider(written: str, field_name: str, where: str) -> None:
        if written in spellings:
            matching.known[written] = spellings[written]
            return
        if written in asked:
            return
        asked.add(written)
        sheet_alias = next((d for d in parsed.departments if written in d.aliases), None)
        if sheet_alias is not None and sheet_alias.name != written:
            matching.alias_of[written] = sheet_alias.name
            consider(sheet_alias.name, field_name, where)
            return
        if sheet_alias is not None or written in matching.sheet:
            kind = (sheet_alias or matching.sheet[written]).kind
        else:
            kind = FIELD_KINDS[field_name]
        question = Question(written, field_name, kind, where)
        sheet = matching.sheet.get(written)
        question.generic = sheet.generic if sheet else bool(GENERIC.search(written))
        if sheet_alias is None and written not in matching.sheet and choices:
            best = process.extractOne(written, list(choices), scorer=fuzz.ratio)
            if best and best[1] >= CLOSE:
                question.suggestion, question.score = choices[best[0]], int(best[1])
        question.looks_like_text = (
            not ORGANISATION.search(written) and written not in matching.sheet
        ) or len(written) > 40
        if question.suggestion is None and written not in matching.sheet:
            earlier = {
                q.written: q
                for q in matching.questions
                if q.kind == kind and not q.same_as and not q.looks_like_text
            }
            best = process.extractOne(written, list(earlier), scorer=fuzz.ratio)
            if best and best[1] >= CLOSE:
                question.same_as, question.score = best[0], int(best[1])
        matching.questions.append(question)

    if parsed.issuer:
        consider(parsed.issuer, "issuer", "")
    for measure in parsed.measures:
        for field_name in ("executing", "responsible", "cooperating"):
            for name in names_in(getattr(measure, field_name)):
                consider(name, field_name, measure.where)
    return matching


def resolve(matching: Matching, decisions: dict, generic: set | None = None) -> dict[str, object]:
    """written → Department, ("new", kind), or None (text only), per the admin's decisions
    (or the defaults: a close spelling is the department it resembles)."""
    by_pk = {}
    resolved: dict[str, object] = dict(matching.known)
    wanted = [
        q for q in matching.questions if decisions.get(q.written, q.default).startswith("map:")
    ]
    if wanted:
        ids = {decisions.get(q.written, q.default)[4:] for q in wanted}
        ids = [int(i) for i in ids if i.isdigit()]
        by_pk = Department.objects.in_bulk(ids)
    asked = {q.written for q in matching.questions}
    for question in matching.questions:
        decision = decisions.get(question.written, question.default)
        if decision.startswith("same:") and decision[5:] in asked - {question.written}:
            resolved[question.written] = ("alias", decision[5:])
        elif decision == "text":
            resolved[question.written] = None
        elif decision.startswith("map:") and decision[4:].isdigit() and int(decision[4:]) in by_pk:
            resolved[question.written] = by_pk[int(decision[4:])]
        else:
            kind = decision[4:] if decision.startswith("new:") else question.kind
            if kind not in Department.Kind.values:
                kind = question.kind
            flag = question.generic if generic is None else question.written in generic
            resolved[question.written] = ("new", kind, flag)
    for written, name in matching.alias_of.items():
        resolved[written] = ("alias", name)
    return resolved
