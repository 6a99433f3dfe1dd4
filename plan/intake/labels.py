"""Deadlines as plans write them: each label kept verbatim, mapped to the quarters it spans.

第X季度 and spans (第二--四季度, 第二—四季度, 第二至四季度, 第二季度到第四季度 …); 上半年 (Q1–Q2),
下半年 (Q3–Q4); 全年/年内/持续推进/长期/年内有阶段性成果 (Q1–Q4); a deadline "X月底前"/"X月前"/
"2014年6月底前"/"2014年6月30日前"/"年底前" runs from the first quarter to the one holding the
month; "X月份"/"X月"/a date without 前 is the quarter holding it; a phase (第一阶段) is
unscheduled. read_label says which: a span, unscheduled, or a problem (a reversed span, a
month that does not exist)."""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

CN = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
MONTHS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
}
DASH = r"(?:-{1,2}|—{1,2}|–{1,2}|－|~|～|至|到)"
Q = r"([一二三四1-4])"
QUARTER_SPAN = re.compile(rf"^第?{Q}(?:季度)?(?:{DASH}(?:第)?{Q})?季度$")
QUARTER_LIST = re.compile(r"^第?([一二三四1-4](?:[、,,和及][一二三四1-4])+)季度$")
HALF = {"上半年": (1, 2), "下半年": (3, 4)}
WHOLE_YEAR = re.compile(
    r"^(?:全年|年内|全年度|年度内|持续推进|长期|长期坚持|常态化|持续开展|每季度|各季度)"
)
YEAR_END = re.compile(r"^(?:(?:\d{4})年)?(?:年底|年末)(?:前|之前)?$")
MONTH = r"(\d{1,2}|十[一二]?|[一二三四五六七八九])"
DEADLINE = re.compile(
    rf"^(?:(?:\d{{4}})年)?{MONTH}月(?:(?:底|末|份)?(?:前|之前|以前)|(\d{{1,2}})日(?:前|之前|以前))$"
)
IN_MONTH = re.compile(
    rf"^(?:(?:\d{{4}})年)?{MONTH}月(?:份|中|上旬|中旬|下旬|底|末)?(?:\d{{1,2}}日)?$"
)
DATE = re.compile(r"^(\d{4})[-./](\d{1,2})(?:[-./](\d{1,2}))?(?:前|之前)?$")
PHASE = re.compile(r"^第[一二三四五六七八九十\d]+阶段$")
# What may start a 进度安排 entry: a label then a separator.
ENTRY_LABEL = (
    r"第?[一二三四1-4](?:[、和及][一二三四1-4])+季度"
    rf"|第?[一二三四1-4](?:季度)?(?:{DASH}(?:第)?[一二三四1-4])?季度"
    r"|第[一二三四五六七八九十\d]+阶段"
    r"|上半年|下半年|全年|年内有阶段性成果|年内|持续推进"
    rf"|(?:\d{{4}}年)?(?:{MONTH}月(?:底|末|份)?(?:\d{{1,2}}日)?(?:前|之前|以前)?|年底前)"
)
ENTRY = re.compile(rf"^(?P<label>{ENTRY_LABEL})[,、::,;;。 ]\s*(?P<text>.*)$", re.S)


@dataclass(frozen=True)
class Reading:
    first: int | None = None
    last: int | None = None
    problem: str = ""  # why the label cannot be read, for the person who wrote it
    known: bool = True  # False: an unrecognised wording, kept as an unscheduled label

    @property
    def scheduled(self) -> bool:
        return self.first is not None


def month_number(text: str) -> int:
    return int(text) if text.isdigit() else MONTHS[text]


def quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


def read_label(label: str) -> Reading:
    """The quarters `label` spans (see the module's docstring)."""
    text = re.sub(r"\s+", "", label or "")
    if not text:
        return Reading(problem=_("时间为空。"))
    if match := QUARTER_SPAN.match(text):
        first = CN[match[1]]
        last = CN[match[2]] if match[2] else first
        if first > last:
            return Reading(
                problem=_("“%(label)s”的起始季度晚于截止季度,请改为“第%(a)s--%(b)s季度”。")
                % {"label": label, "a": "一二三四"[last - 1], "b": "一二三四"[first - 1]}
            )
        return Reading(first, last)
    if match := QUARTER_LIST.match(text):
        quarters = [CN[q] for q in re.findall(r"[一二三四1-4]", match[1])]
        if quarters != sorted(quarters):
            return Reading(problem=_("“%(label)s”中的季度顺序颠倒。") % {"label": label})
        return Reading(quarters[0], quarters[-1])
    if text in HALF:
        return Reading(*HALF[text])
    if WHOLE_YEAR.match(text) or YEAR_END.match(text):
        return Reading(1, 4)
    if PHASE.match(text):
        return Reading()
    for pattern, deadline in ((DEADLINE, True), (IN_MONTH, False)):
        if match := pattern.match(text):
            month = month_number(match[1])
            if not 1 <= month <= 12:
                return Reading(problem=_("“%(label)s”中的月份不存在。") % {"label": label})
            quarter = quarter_of(month)
            return Reading(1 if deadline else quarter, quarter)
    if match := DATE.match(text):
        month = int(match[2])
        if not 1 <= month <= 12:
            return Reading(problem=_("“%(label)s”中的月份不存在。") % {"label": label})
        quarter = quarter_of(month)
        return Reading(1 if text.endswith("前") else quarter, quarter)
    return Reading(known=False)


def label_quarters(label: str) -> tuple[int | None, int | None]:
    """(first, last) quarters of `label`; (None, None) when unscheduled or unreadable."""
    reading = read_label(label)
    return reading.first, reading.last


def split_entry(text: str) -> tuple[str, str] | None:
    """A 进度安排 entry "第一季度,研究…" as (label, text); None without a label in front."""
    match = ENTRY.match(text.strip())
    if not match:
        return None
    return match["label"], match["text"].strip()
