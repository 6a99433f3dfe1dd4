"""Offline progress templates: an office downloads an xlsx of its milestones for a quarter,
fills it in Excel (or WPS) away from the system, and uploads it; each filled row becomes or
updates that office's draft report.

The file is one sheet whose first row is the header `read_table` checks, so everything else
a person needs is carried without extra rows or sheets: the plan and quarter in the file name
and the document properties, instructions in the header cells' notes and the input prompts
of the editable cells. The plan's own columns are locked (sheet protection, no password);
the four report columns are unlocked and validated by Excel.

An upload is read with spreadsheets.reading.read_table, every row is checked with ReportForm
and saved with services.save_report (submit=False) inside one transaction; if any row is
wrong the transaction is rolled back and every problem is shown, naming row and column; a
changed row whose report changed since the download is refused alone (see import_file)."""

import dataclasses
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from departments import roles
from plan.models import QUARTER_CHOICES, Milestone, Plan
from plantracker import clock
from spreadsheets import writing as xlsx
from spreadsheets.reading import SheetError, read_table

from . import services
from .forms import ReportForm
from .models import ProgressReport, ReportVersion

# The columns, in order: (field, header, editable). The headers are always written and read
# in the site's language (settings.LANGUAGE_CODE), so a file downloaded with the English
# interface can be uploaded with the Chinese one.
COLUMNS = (
    ("key", gettext_lazy("节点编号"), False),
    ("measure", gettext_lazy("工作措施"), False),
    ("label", gettext_lazy("时间"), False),
    ("text", gettext_lazy("进度安排"), False),
    ("state", gettext_lazy("审核状态"), False),
    ("status", gettext_lazy("进展状态"), True),
    ("percent", gettext_lazy("完成百分比"), True),
    ("done_text", gettext_lazy("完成情况"), True),
    ("problems_text", gettext_lazy("存在问题及下一步"), True),
    ("review_comment", gettext_lazy("审核意见"), False),
    # The version the row was downloaded at: a row whose report changed since is refused.
    ("version", gettext_lazy("版本号"), False),
)
FIELDS = [field for field, _header, _editable in COLUMNS]
COLUMN = {field: index for index, field in enumerate(FIELDS, start=1)}
EDITABLE = [field for field, _header, editable in COLUMNS if editable]
# (least, most) width in characters of each column; the content decides in between.
WIDTHS = {
    "key": (10, 10),
    "measure": (16, 30),
    "label": (8, 14),
    "text": (30, 50),
    "state": (10, 10),
    "status": (10, 10),
    "percent": (12, 12),
    "done_text": (40, 50),
    "problems_text": (30, 40),
    "review_comment": (16, 30),
    "version": (8, 8),
}
LINE_HEIGHT = 15  # points per line of 11pt text, CJK included
LOCKED_FILL = PatternFill("solid", fgColor="F3F4F6")
EDITABLE_FILL = PatternFill("solid", fgColor="FFFBEA")
MARKER = "plantracker-offline plan={plan} quarter={quarter}"
MARKER_PATTERN = re.compile(rb"plantracker-offline plan=(\d+) quarter=(\d)")
MAX_CORE_XML = 64 * 1024


def _site(value) -> str:
    """`value` (a lazy translation) in the site's language, as the file is written in."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(value)


def headers() -> list[str]:
    return [_site(header) for _field, header, _editable in COLUMNS]


def status_labels() -> dict[str, str]:
    """进展状态 as written in the file (未开始 …) → the stored value."""
    return {_site(label): value for value, label in ProgressReport.Status.choices}


def quarter_label(quarter: int) -> str:
    return str(dict(QUARTER_CHOICES)[quarter])


def check_user(user) -> None:
    """Only office staff with at least one office fill progress templates."""
    if roles.STAFF not in roles.roles_of(user):
        raise PermissionDenied(_("只有处室人员可以下载和上传离线填报表。"))
    if not services.office_ids(user):
        raise PermissionDenied(_("您的账号尚未关联任何责任处室,请联系管理员。"))


def work_rows(user, plan: Plan, quarter: int) -> list[services.WorkRow]:
    """The user's milestones due in `quarter`, in the plan's order, with their reports."""
    groups = services.workspace(user, plan, quarter, clock.today())
    rows = [row for group in groups for row in group.rows]
    rows.sort(
        key=lambda row: (
            row.milestone.measure.work_area.order,
            row.milestone.measure.number,
            row.milestone.order,
        )
    )
    return rows


# --- Download ---------------------------------------------------------------------------


def _display_width(text: str) -> int:
    """Width of `text` in Excel's character units: CJK characters count twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _lines(text: str, width: int) -> int:
    return sum(
        max(1, math.ceil(_display_width(line) / max(width - 1, 1))) for line in text.split("\n")
    )


def filename(plan: Plan, quarter: int) -> str:
    return _("%(year)s年%(quarter)s进展填报表.xlsx") % {
        "year": plan.year,
        "quarter": quarter_label(quarter),
    }


def _values(row: services.WorkRow, labels: dict[str, str]) -> dict:
    milestone, report = row.milestone, row.report
    values = {
        "key": milestone.pk,
        "measure": f"{milestone.measure.number}.{milestone.measure.title}",
        "label": milestone.label,
        "text": milestone.text,
        "state": _site(dict(ProgressReport.State.choices)[row.state])
        if report
        else _site(gettext_lazy("已提前完成") if row.done_in else gettext_lazy("未填报")),
        "status": None,
        "percent": None,
        "done_text": None,
        "problems_text": None,
        "review_comment": report.review_comment if report else None,
        "version": report.version if report else 0,
    }
    if report:
        by_value = {value: label for label, value in labels.items()}
        values.update(
            status=by_value[report.status],
            percent=report.percent,
            done_text=report.done_text,
            problems_text=report.problems_text,
        )
    return values


def _notes() -> dict[str, str]:
    """Notes on the header cells: the instructions, where they do not disturb the table."""
    return {
        "key": _site(
            gettext_lazy(
                "系统用来识别进度节点,请勿修改。只填写黄色单元格;填好后在“我的工作”页面"
                "上传本文件,每一行保存为本处室的草稿,提交审核请在系统中进行。"
            )
        ),
        "status": _site(gettext_lazy("从下拉列表中选择:未开始、进行中、已完成、滞后。")),
        "percent": _site(gettext_lazy("0到100的整数。进展状态为“已完成”时须为100。")),
        "done_text": _site(gettext_lazy("保存草稿时可以留空,提交审核前须填写。")),
    }


def download(user, plan: Plan, quarter: int) -> HttpResponse:
    """The template as an attachment named after the plan's year and the quarter."""
    response = xlsx.response(build_template(user, plan, quarter), "")
    response["Content-Disposition"] = (
        f'attachment; filename="progress-{plan.year}-q{quarter}.xlsx"; '
        f"filename*=UTF-8''{quote(filename(plan, quarter))}"
    )
    return response


def build_template(user, plan: Plan, quarter: int) -> Workbook:
    """The workbook an office fills offline for `quarter`."""
    check_user(user)
    rows = work_rows(user, plan, quarter)
    labels = status_labels()
    values = [_values(row, labels) for row in rows]
    widths = []
    for field, header in zip(FIELDS, headers(), strict=True):
        least, most = WIDTHS[field]
        texts = [header, *(str(item[field] or "") for item in values)]
        longest = max(_display_width(line) for text in texts for line in text.split("\n"))
        widths.append(min(most, max(least, longest + 2)))
    book = xlsx.new_workbook()
    sheet = xlsx.add_table(
        book,
        _site(gettext_lazy("%(year)s年%(quarter)s"))
        % {"year": plan.year, "quarter": _site(dict(QUARTER_CHOICES)[quarter])},
        headers(),
        [[item[field] for field in FIELDS] for item in values],
        widths,
    )
    for field, note in _notes().items():
        comment = Comment(note, _site(gettext_lazy("推进计划跟踪")))
        comment.width, comment.height = 320, 110
        sheet.cell(row=1, column=COLUMN[field]).comment = comment
    sheet.row_dimensions[1].height = 2 * LINE_HEIGHT
    for number, (row, item) in enumerate(zip(rows, values, strict=True), start=2):
        open_row = row.report is None or row.report.editable
        for field in FIELDS:
            cell = sheet.cell(row=number, column=COLUMN[field])
            editable = open_row and field in EDITABLE
            cell.protection = Protection(locked=not editable)
            cell.fill = EDITABLE_FILL if editable else LOCKED_FILL
            if not open_row:
                cell.font = Font(color="6B7280")
            if field in ("key", "state", "status", "percent", "version"):
                cell.alignment = Alignment(horizontal="center", vertical="top", wrap_text=True)
        cell = sheet.cell(row=number, column=COLUMN["percent"])
        cell.number_format = "0"
        lines = max(
            _lines(str(item[field] or ""), width)
            for field, width in zip(FIELDS, widths, strict=True)
        )
        sheet.row_dimensions[number].height = min(409, max(2, lines) * LINE_HEIGHT)
    _validations(sheet, last_row=max(2, len(rows) + 1), labels=labels)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # people may still widen columns
    sheet.protection.formatRows = False  # and make rows taller
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    book.properties.title = _("%(year)s年%(quarter)s进展填报表") % {
        "year": plan.year,
        "quarter": quarter_label(quarter),
    }
    book.properties.subject = plan.title
    book.properties.creator = _("推进计划跟踪")
    book.properties.keywords = MARKER.format(plan=plan.pk, quarter=quarter)
    return book


def _validations(sheet, *, last_row: int, labels: dict[str, str]) -> None:
    status = DataValidation(
        type="list",
        formula1='"{}"'.format(",".join(labels)),
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle=_site(gettext_lazy("进展状态")),
        error=_site(gettext_lazy("请从下拉列表中选择:未开始、进行中、已完成、滞后。")),
        promptTitle=_site(gettext_lazy("进展状态")),
        prompt=_site(gettext_lazy("从下拉列表中选择")),
    )
    percent = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle=_site(gettext_lazy("完成百分比")),
        error=_site(gettext_lazy("请填写0到100之间的整数。")),
        promptTitle=_site(gettext_lazy("完成百分比")),
        prompt=_site(gettext_lazy("0到100的整数;“已完成”须为100")),
    )
    for validation, field in ((status, "status"), (percent, "percent")):
        letter = get_column_letter(COLUMN[field])
        validation.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(validation)


# --- Upload -----------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("填报表文件"),
        widget=forms.FileInput(attrs={"accept": ".xlsx"}),
    )


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    blank: int = 0
    #: (row number, what happened: 新建, 更新, 未改动, 拒绝 …, why where refused)
    rows: list = dataclasses.field(default_factory=list)
    refused: list = dataclasses.field(default_factory=list)

    def note(self, number: int, outcome: str, why: str = "") -> None:
        self.rows.append((number, outcome))
        if why:
            self.refused.append(_("第%(row)s行:%(why)s") % {"row": number, "why": why})

    def per_row(self) -> str:
        """What happened to each row, in one line: 第2行新建;第3行未改动 …"""
        return _("逐行结果:") + ";".join(
            _("第%(row)s行%(outcome)s") % {"row": number, "outcome": outcome}
            for number, outcome in sorted(self.rows)
        )

    def summary(self) -> str:
        if not self.created and not self.updated:
            if self.refused:
                return _("没有保存任何行:%(count)s行被拒绝,原因见下。") % {
                    "count": len(self.refused)
                }
            return _("文件已读取,没有需要保存的改动。")
        text = _("离线填报表已导入:新建草稿%(created)s份,更新草稿%(updated)s份。") % {
            "created": self.created,
            "updated": self.updated,
        }
        if self.unchanged or self.blank:
            text += _("另有%(count)s行未填写或没有改动,未作处理。") % {
                "count": self.unchanged + self.blank
            }
        if self.refused:
            text += _("%(count)s行被拒绝,原因见下。") % {"count": len(self.refused)}
        return text


class ImportFailed(Exception):
    """The file cannot be read, or some rows are wrong; nothing was saved. `errors` name
    row and column where there is one."""

    def __init__(self, errors: list[SheetError]):
        errors = sorted(errors, key=lambda error: (error.row or 0, error.column or 0))
        super().__init__(f"{len(errors)} errors")
        self.errors = errors

    @property
    def messages(self) -> list[str]:
        return [error.message for error in self.errors]


def read_upload(upload) -> bytes:
    """The uploaded file's bytes, refusing a file over the size limit before reading it."""
    limit = settings.IMPORT_MAX_BYTES
    if upload.size > limit:
        raise SheetError(
            _("文件大小为%(size)s,超过%(limit)s的上限。")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
        )
    return upload.read()


def check_marker(data: bytes, plan: Plan, quarter: int) -> None:
    """Refuses a template downloaded for another plan or quarter. Files without the marker
    (a CSV, or a workbook a tool saved without its document properties) are accepted."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            info = archive.getinfo("docProps/core.xml")
            if info.file_size > MAX_CORE_XML:
                return
            core = archive.read(info)
    except Exception:  # no core.xml, or one that cannot be read: there is no marker
        return
    found = MARKER_PATTERN.search(core)
    if not found:
        return
    plan_pk, file_quarter = int(found[1]), int(found[2])
    if (plan_pk, file_quarter) == (plan.pk, quarter):
        return
    other = Plan.objects.filter(pk=plan_pk).first()
    raise SheetError(
        _(
            "这是%(file)s的填报表,与当前选择的%(chosen)s不符。"
            "请在本页选择对应的季度,或下载%(chosen)s的填报表重新填写。"
        )
        % {
            "file": _("%(year)s年%(quarter)s")
            % {
                "year": other.year if other else "?",
                "quarter": quarter_label(file_quarter) if file_quarter in (1, 2, 3, 4) else "?",
            },
            "chosen": _("%(year)s年%(quarter)s")
            % {"year": plan.year, "quarter": quarter_label(quarter)},
        }
    )


def _unsafe(text: str) -> str:
    """Undoes writing.safe: a leading apostrophe before = + - @ was added on download."""
    return xlsx.unsafe(text)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _unsafe(str(value))


def _number(value):
    """What the form's IntegerField gets for a 完成百分比 cell."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip().removesuffix("%").strip()
    return value


def _version(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return 0 if value in (0, "0") else _key(value)


def _key(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 18:
        value = int(value.strip())
    if isinstance(value, int) and 0 < value < 2**63:
        return value
    return None


@dataclass
class _Row:
    number: int
    work: services.WorkRow
    data: dict
    version: int | None  # the version the row was downloaded at (None: not given)


class _Errors(list):
    def add(self, row: int, field: str, message) -> None:
        self.append(SheetError(str(message), row=row, column=COLUMN.get(field, COLUMN["key"])))

    def add_validation(self, row: int, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                for message in messages:
                    self.add(row, field, message)
        else:
            for message in error.messages:
                self.add(row, "key", message)


def _refusal(key: int, milestone: Milestone | None, user, plan: Plan, quarter: int) -> str:
    """Why the milestone `key` cannot be in this file."""
    if milestone is None:
        return _("节点编号%(key)s不存在。请使用从系统下载的填报表,不要修改节点编号。") % {
            "key": key
        }
    if not services.may_write_report(user, milestone):
        return _("节点编号%(key)s(%(measure)s)不是您所在处室负责的进度节点。") % {
            "key": key,
            "measure": f"{milestone.measure.number}.{milestone.measure.title}",
        }
    if milestone.measure.work_area.plan_id != plan.pk:
        return _("节点编号%(key)s属于其他年度的推进计划。") % {"key": key}
    return _("节点编号%(key)s(%(label)s)不在%(quarter)s填报。") % {
        "key": key,
        "label": milestone.label,
        "quarter": quarter_label(quarter),
    }


def _parse(table, scope: dict[int, services.WorkRow], user, plan, quarter, errors: _Errors):
    """The rows to save, after the checks that need no writing; problems go to `errors`."""
    labels = status_labels()
    keys = {_key(values[0]) for _number_, values in table.rows} - {None} - set(scope)
    others = Milestone.objects.select_related("measure__work_area").in_bulk(keys)
    prefetch_related_objects(list(others.values()), "measure__responsible_offices")
    seen: dict[int, int] = {}
    parsed, blank = [], 0
    for number, values in table.rows:
        cells = dict(zip(FIELDS, values, strict=True))
        key = _key(cells["key"])
        if key is None:
            if cells["key"] is None or str(cells["key"]).strip() == "":
                errors.add(
                    number, "key", _("缺少节点编号。请使用从系统下载的填报表,不要修改这一列。")
                )
            else:
                errors.add(
                    number,
                    "key",
                    _("节点编号“%(value)s”无效,应为系统下载的填报表中的数字。")
                    % {"value": _text(cells["key"])},
                )
            continue
        if key in seen:
            errors.add(
                number,
                "key",
                _("节点编号%(key)s与第%(first)s行重复,同一进度节点只能填写一行。")
                % {"key": key, "first": seen[key]},
            )
            continue
        seen[key] = number
        work = scope.get(key)
        if work is None:
            errors.add(number, "key", _refusal(key, others.get(key), user, plan, quarter))
            continue
        # A row left blank, downloaded before there was a report (版本号 0; the report may
        # have been written on the web since): nothing to do.
        if (work.report is None or _version(cells["version"]) == 0) and all(
            cells[field] is None or str(cells[field]).strip() == "" for field in EDITABLE
        ):
            blank += 1
            continue
        status = _text(cells["status"]).strip()
        if status and status not in labels and status not in labels.values():
            errors.add(
                number,
                "status",
                _("进展状态“%(value)s”无效,应为:%(choices)s。")
                % {"value": status, "choices": "、".join(labels)},
            )
            continue
        form = ReportForm(
            {
                "version": work.report.version if work.report else 0,
                "status": labels.get(status, status),
                "percent": _number(cells["percent"]),
                "done_text": _text(cells["done_text"]),
                "problems_text": _text(cells["problems_text"]),
            }
        )
        if not form.is_valid():
            for field, messages in form.errors.items():
                for message in messages:
                    errors.add(number, field, message)
            continue
        parsed.append(_Row(number, work, form.cleaned_data, _version(cells["version"])))
    return parsed, blank


def _content(data: dict) -> tuple:
    return (
        data["status"],
        data["percent"],
        data["done_text"].strip(),
        data["problems_text"].strip(),
    )


def _unchanged(report, data: dict) -> bool:
    """The row says what `report` (a report, or one of its versions) says."""
    return report is not None and (
        report.status,
        report.percent,
        report.done_text,
        report.problems_text,
    ) == _content(data)


def _newer(report: ProgressReport, version: int | None) -> str:
    """Why a row written on an older version is refused: who changed the report, when, and
    what it says now."""
    last = report.versions.select_related("by").order_by("-version").first()
    text = report.done_text if len(report.done_text) <= 40 else report.done_text[:40] + "…"
    return _(
        "您的这一行是在第%(file)s版上填写的,但%(user)s已于%(time)s把报告改为第%(version)s版"
        "(%(state)s,%(status)s,%(percent)s%%,完成情况:“%(text)s”)。这一行没有保存:"
        "请在系统中核对后修改,或重新下载填报表。"
    ) % {
        "file": version if version is not None else "?",
        "user": last.by if last else report.updated_by,
        "time": timezone.localtime(last.at if last else report.updated_at).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "version": report.version,
        "state": report.get_state_display(),
        "status": report.get_status_display(),
        "percent": report.percent,
        "text": text or "—",
    }


def _as_downloaded(rows: list[_Row]) -> dict[tuple[int, int], ReportVersion]:
    """The versions the file's rows were downloaded at, for rows whose report has changed
    since: (report id, version) → that version. One query."""
    wanted = {
        (row.work.report.pk, row.version)
        for row in rows
        if row.work.report and row.version and row.version != row.work.report.version
    }
    if not wanted:
        return {}
    found = ReportVersion.objects.filter(
        report__in={pk for pk, _version in wanted}, version__in={v for _pk, v in wanted}
    )
    return {(v.report_id, v.version): v for v in found if (v.report_id, v.version) in wanted}


def _outcome(row: _Row, downloaded: dict) -> str:
    """What to do with a row: "unchanged", "write", or "stale" (written on an older version
    of a report that changed since, and changed by the user: refused)."""
    report = row.work.report
    if report is None:
        return "write"
    if _unchanged(report, row.data):
        return "unchanged"
    if row.version == report.version:
        return "write"
    if _unchanged(downloaded.get((report.pk, row.version)), row.data):
        return "unchanged"  # the user left this row as downloaded; the system has moved on
    return "stale"


def upload(user, plan: Plan, quarter: int, upload) -> ImportResult:
    """Imports an uploaded file (see import_file); any problem raises ImportFailed."""
    try:
        return import_file(user, plan, quarter, read_upload(upload), upload.name)
    except SheetError as error:
        raise ImportFailed([error]) from None


def import_file(user, plan: Plan, quarter: int, data: bytes, name: str = "") -> ImportResult:
    """Saves the rows of an uploaded template as drafts through services.save_report (the
    channel 离线表格). A wrong cell refuses the whole file (ImportFailed listing every wrong
    row; SheetError for a file that cannot be read). Rows the user did not change are left
    alone; a changed row whose report changed since the download is refused on its own,
    saying who changed it, when and what it says now, and the other rows are saved."""
    check_user(user)
    table = read_table(data, headers(), filename=name)
    if not name.lower().endswith(".csv"):
        check_marker(data, plan, quarter)
    errors = _Errors()
    result = ImportResult()
    with transaction.atomic():
        rows = work_rows(user, plan, quarter)
        prefetch_related_objects([row.milestone for row in rows], "measure__responsible_offices")
        scope = {row.milestone.pk: row for row in rows}
        parsed, result.blank = _parse(table, scope, user, plan, quarter, errors)
        downloaded = _as_downloaded(parsed)
        for row in parsed:
            _import_row(user, quarter, row, _outcome(row, downloaded), result, errors)
        if errors:
            raise ImportFailed(errors)  # rolls the transaction back: nothing is saved
    return result


def _import_row(user, quarter: int, row: _Row, outcome: str, result, errors: _Errors) -> None:
    report = row.work.report
    if outcome == "unchanged":
        result.unchanged += 1
        result.note(row.number, _("未改动"))
        return
    if outcome == "stale":
        result.note(row.number, _("被拒绝"), _newer(report, row.version))
        return
    try:
        with transaction.atomic():
            services.save_report(
                user=user,
                milestone=row.work.milestone,
                quarter=quarter,
                base_version=report.version if report else 0,
                status=row.data["status"],
                percent=row.data["percent"],
                done_text=row.data["done_text"],
                problems_text=row.data["problems_text"],
                submit=False,
                channel=services.Channel.OFFLINE,
            )
    except services.StaleEdit as stale:  # changed a moment ago, while the file was read
        result.note(row.number, _("被拒绝"), _newer(stale.report, row.version))
    except ValidationError as error:
        errors.add_validation(row.number, error)
    except PermissionDenied as error:
        errors.add(row.number, "key", error)
    else:
        created = report is None
        result.created += created
        result.updated += not created
        result.note(row.number, _("新建") if created else _("更新"))
