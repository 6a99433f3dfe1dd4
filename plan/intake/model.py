"""The plan a file describes, as read, before anything is written: the same tree whatever
the file's format, with every problem found (where it is and what is wrong)."""

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

# The fields a column of a plan table can hold.
FIELDS = [
    ("area", _("工作领域(主要任务)")),
    ("measure", _("工作措施(具体任务)")),
    ("goal", _("工作目标")),
    ("action", _("具体措施")),
    ("schedule", _("进度安排(完成时限)")),
    ("executing", _("执行部门")),
    ("cooperating", _("配合单位")),
    ("responsible", _("责任处室(牵头单位)")),
    ("ignore", _("忽略此列")),
]


@dataclass
class Problem:
    message: str
    where: str = ""  # 第6行D列, 表格第3行第2列, 第12行 (of a text)
    blocking: bool = True

    def __str__(self) -> str:
        return f"{self.where}:{self.message}" if self.where else self.message


@dataclass
class ParsedMilestone:
    label: str
    text: str
    first: int | None
    last: int | None
    where: str = ""
    known: bool = True  # the label's wording was recognised
    retired_on: datetime.date | None = None  # retired by a revision (our own export says)
    read_as: tuple | None = None  # (first, last) as read, when an admin chose other quarters


@dataclass
class ParsedAction:
    number: int
    text: str
    where: str = ""


@dataclass
class ParsedMeasure:
    number: int | None
    title: str
    goal: str
    executing: str
    cooperating: str
    responsible: str
    where: str = ""
    actions: list[ParsedAction] = field(default_factory=list)
    milestones: list[ParsedMilestone] = field(default_factory=list)


@dataclass
class ParsedArea:
    numeral: str
    title: str
    measures: list[ParsedMeasure] = field(default_factory=list)
    where: str = ""


@dataclass
class ParsedDepartment:
    """A row of the 部门 sheet our own export writes: what a department is beyond its name."""

    name: str
    kind: str
    aliases: list[str]
    generic: bool


@dataclass
class Column:
    index: int
    header: str
    field: str | None  # None: not recognised, the admin maps it


@dataclass
class ParsedPlan:
    title: str = ""
    year: int | None = None
    issuer: str = ""
    issued_on: datetime.date | None = None
    areas: list[ParsedArea] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    departments: list[ParsedDepartment] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    kind: str = ""  # the format read: xlsx, csv, docx, text

    @property
    def measures(self) -> list[ParsedMeasure]:
        return [measure for area in self.areas for measure in area.measures]

    @property
    def milestones(self) -> list[ParsedMilestone]:
        return [m for measure in self.measures for m in measure.milestones]

    @property
    def counts(self) -> dict:
        measures = self.measures
        return {
            "work_areas": len(self.areas),
            "measures": len(measures),
            "actions": sum(len(m.actions) for m in measures),
            "milestones": sum(len(m.milestones) for m in measures),
        }

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]

    @property
    def notes(self) -> list[Problem]:
        return [p for p in self.problems if not p.blocking]

    def error(self, message: str, where: str = "") -> None:
        self.problems.append(Problem(message, where))

    def note(self, message: str, where: str = "") -> None:
        self.problems.append(Problem(message, where, blocking=False))
