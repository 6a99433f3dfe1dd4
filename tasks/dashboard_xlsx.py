"""The leaders' dashboard as a workbook (dashboard/overview.xlsx): the same figures as the
page, sheet by sheet, with the partition of 应完成 and the flags written as on the page."""

import datetime

from django.utils.translation import gettext as _
from openpyxl import Workbook

from spreadsheets import writing as xlsx

from . import dashboard

BUCKET_WIDTHS = [30, 10, 10, 10, 10, 10, 12, 10, 12, 12, 12, 8, 8, 8]


def workbook(data: dashboard.Overview, today: datetime.date) -> Workbook:
    plan, quarter, total = data.plan, data.quarter, data.total
    book = xlsx.new_workbook()
    xlsx.add_table(
        book,
        _("总览"),
        [_("指标"), _("数值"), _("口径")],
        [
            (_("计划"), plan.title, ""),
            (_("填报季度"), dashboard.quarter_label(quarter), ""),
            (_("应完成节点"), total.due, str(dashboard.FIGURE_HELP["due"])),
            *(
                (str(label), getattr(total, key), str(dashboard.FIGURE_HELP[key]))
                for key, label in dashboard.PARTITION.items()
            ),
            *(
                (str(label), getattr(total, key), str(dashboard.FIGURE_HELP[key]))
                for key, label in dashboard.FLAGS.items()
            ),
            (_("总体完成率(%)"), total.completion, str(dashboard.FIGURE_HELP["completion"])),
            (_("序时进度(%)"), total.expected, str(dashboard.FIGURE_HELP["expected"])),
        ],
        widths=[24, 50, 70],
    )
    headers = bucket_headers()
    xlsx.add_table(book, _("按工作领域"), headers, bucket_rows(data.by_area), BUCKET_WIDTHS)
    xlsx.add_table(book, _("按责任处室"), headers, bucket_rows(data.by_office), BUCKET_WIDTHS)
    xlsx.add_table(book, _("季度趋势"), headers, bucket_rows(data.trend), BUCKET_WIDTHS)
    xlsx.add_table(
        book,
        _("填报及时性"),
        [_("责任处室"), _("本季度未填报"), _("逾期天数"), _("应报"), _("按时"), _("按时率(%)")],
        [
            (t.office.name, t.missing, t.days_late or None, t.required, t.on_time, t.rate)
            for t in data.timeliness
        ],
        [24, 14, 10, 8, 8, 10],
    )
    xlsx.add_table(
        book,
        _("进度节点"),
        [
            _("工作领域"),
            _("工作措施"),
            _("时间"),
            _("进度安排"),
            _("责任处室"),
            _("信号"),
            _("原因"),
            _("序时进度(%)"),
            _("完成(%)"),
            _("进展状态"),
        ],
        [
            (
                str(f.milestone.measure.work_area),
                f"{f.milestone.measure.number}.{f.milestone.measure.title}",
                f.milestone.label,
                f.milestone.text,
                "、".join(o.name for o in f.offices),
                f.light_label,
                ";".join(f.reasons),
                f.expected,
                f.percent if f.due else None,
                f.approved.get_status_display() if f.approved else "",
            )
            for f in data.figures
        ],
        [20, 28, 12, 50, 16, 8, 30, 10, 10, 10],
    )
    if quarter > 1:
        xlsx.add_table(
            book,
            _("较上季度变化"),
            [
                _("变化"),
                _("工作措施"),
                _("时间"),
                _("责任处室"),
                _("上季度状态"),
                _("上季度完成(%)"),
                _("本季度状态"),
                _("本季度完成(%)"),
            ],
            change_rows(dashboard.changes_among(data.figures, plan, quarter - 1, today)),
            [14, 30, 12, 16, 12, 12, 12, 12],
        )
    return book


def bucket_headers() -> list[str]:
    return [
        _("名称"),
        _("应完成"),
        *(str(label) for label in dashboard.PARTITION.values()),
        _("已逾期"),
        _("完成率(%)"),
        _("序时进度(%)"),
        _("预警"),
        _("关注"),
        _("正常"),
    ]


def bucket_rows(buckets) -> list[tuple]:
    return [
        (
            b.label,
            b.due,
            *(getattr(b, key) for key in dashboard.PARTITION),
            b.overdue,
            b.completion,
            b.expected,
            b.red,
            b.yellow,
            b.green,
        )
        for b in buckets
    ]


def change_rows(items) -> list[tuple]:
    return [
        (
            "、".join(c.labels),
            f"{c.after.milestone.measure.number}.{c.after.milestone.measure.title}",
            c.after.milestone.label,
            "、".join(o.name for o in c.after.offices),
            c.before.approved.get_status_display() if c.before.approved else "",
            c.before.percent,
            c.after.approved.get_status_display() if c.after.approved else "",
            c.after.percent,
        )
        for c in items
    ]
