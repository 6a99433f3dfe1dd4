"""send_reminders: a sensible cadence. A person who owes a quarter's reports (office staff) or
contributions (cooperating units) is mailed 7 days and 1 day before the due date, on it, then
weekly while overdue; at most one mail a day in all, listing everything owed, with links. Three
days before, an in-app notice (no mail)."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from departments import roles
from plan.models import Plan
from supervision import services as supervision
from supervision.models import Notice
from tasks import services
from tasks.models import Reminder

from .conftest import make_user
from .test_cooperation import district
from .test_report_rules import milestone, returned, submitted, write

__all__ = ["district"]  # a fixture

PLAN = "重庆市2014年专利事业发展战略推进计划"


def with_email(user, email: str):
    user.email = email
    user.save()
    return user


def remind(date: str, **options) -> None:
    call_command("send_reminders", date=date, **options)


def days(first: str, last: str):
    day = datetime.date.fromisoformat(first)
    while day <= datetime.date.fromisoformat(last):
        yield day
        day += datetime.timedelta(days=1)


@pytest.fixture
def outbox(db, mailoutbox):
    """pytest-django's mailoutbox, set up after the database."""
    return mailoutbox


@pytest.fixture
def zhang(staff):
    """专利管理处 staff with an email address."""
    return with_email(staff, "zhang@cnipa-cq.example")


@pytest.fixture
def li(other_staff):
    """法律事务处 staff with an email address."""
    return with_email(other_staff, "li@cnipa-cq.example")


@pytest.fixture
def quxian(district):
    """A member of a cooperating unit (各区县知识产权局) with an email address."""
    return with_email(make_user("quxian", roles.UNIT, district), "quxian@cnipa-cq.example")


def owed(user, quarter: int, day: str):
    plan = Plan.objects.get(year=2014)
    return services.pending_rows(
        services.workspace(user, plan, quarter, datetime.date.fromisoformat(day))
    )


def test_the_cadence_over_a_simulated_quarter(outbox, zhang, quxian):
    """Q1 reports are due 2014-04-10, Q2 reports 2014-07-10. zhang submits every Q1 report on
    20 April and nothing for Q2; the unit never contributes."""
    assert owed(zhang, 1, "2014-04-01") and owed(zhang, 2, "2014-07-01")
    sent: dict[str, list[str]] = {"zhang": [], "quxian": []}
    for day in days("2014-03-20", "2014-07-20"):
        if day == datetime.date(2014, 4, 20):
            for row in owed(zhang, 1, "2014-04-20"):
                submitted(zhang, row.milestone, 1)
        before = len(outbox)
        remind(day.isoformat())
        remind(day.isoformat())  # a second run the same day sends nothing
        for mail in outbox[before:]:
            sent[mail.to[0].split("@")[0]].append(day.strftime("%m-%d"))

    assert sent["zhang"] == ["04-03", "04-09", "04-10", "04-17", "07-03", "07-09", "07-10", "07-17"]
    assert sent["quxian"] == [
        *["04-03", "04-09", "04-10", "04-17", "04-24"],  # Q1: before, on, then weekly
        *["05-01", "05-08", "05-15", "05-22", "05-29"],
        *["06-05", "06-12", "06-19", "06-26"],
        *["07-03", "07-09", "07-10", "07-17"],  # Q2's days fall on Q1's weekly ones or add
    ]
    assert Reminder.objects.count() == len(outbox) == 8 + 18
    # Three days before each due date, an in-app notice, without a mail.
    deadline = Notice.objects.filter(kind=Notice.Kind.DEADLINE).order_by("user__username", "pk")
    assert [(n.user.username, n.link) for n in deadline] == [
        ("quxian", f"/cooperation/?plan={Plan.objects.get().pk}&quarter=1"),
        ("quxian", f"/cooperation/?plan={Plan.objects.get().pk}&quarter=2"),
        ("zhang", f"/work/?plan={Plan.objects.get().pk}&quarter=1"),
        ("zhang", f"/work/?plan={Plan.objects.get().pk}&quarter=2"),
    ]


def test_one_mail_lists_everything_owed_with_links(outbox, zhang, reviewer, settings):
    settings.SITE_URL = "https://plan.example.gov.cn"
    write(zhang, milestone(3, 2), 2)
    submitted(zhang, milestone(8, 2), 2)
    returned(zhang, reviewer, milestone(18, 2), 2)

    remind("2014-07-03")  # 7 days before Q2 is due; Q1 (due 04-10) is overdue 84 days

    [mail] = outbox
    plan = Plan.objects.get()
    assert mail.to == ["zhang@cnipa-cq.example"]
    body = mail.body
    q1 = f"{PLAN} 2014年第1季度(截止日期:2014-04-10,已逾期84天):"
    q2 = f"{PLAN} 2014年第2季度(截止日期:2014-07-10,还有7天):"
    assert body.index(q1) < body.index(q2)
    q2_part = body[body.index(q2) :]
    assert "- 3.推动制定专利纲领性文件 · 第二季度:草稿未提交" in q2_part
    assert "- 18.培育知识产权优势企业和示范企业。 · 第二--三季度:已退回待修改" in q2_part
    assert "8.推进专利价值分析指标体系" not in q2_part  # submitted: not owed
    assert f"https://plan.example.gov.cn/work/milestones/{milestone(3, 2).pk}/q2/" in q2_part
    count = body.count("\n- ")
    assert mail.subject == f"【推进计划跟踪】您有{count}项进度填报待办"
    assert Reminder.objects.get().body == body
    assert plan.report_due(2) == datetime.date(2014, 7, 10)


def test_a_unit_is_reminded_of_its_contributions_with_links(outbox, quxian):
    remind("2014-07-09")
    [mail] = outbox
    assert "配合情况未报送" in mail.body
    assert "/cooperation/milestones/" in mail.body


def test_a_day_off_the_cadence_sends_nothing(outbox, zhang):
    remind("2014-05-10")  # Q1 is overdue since 04-10: weekly means 05-08, 05-15
    assert [m.to for m in outbox] == []
    remind("2014-04-17")
    assert [m.to for m in outbox] == [["zhang@cnipa-cq.example"]]


def test_a_person_without_an_email_address_is_skipped_and_said(outbox, staff, li, capsys):
    remind("2014-04-10")

    assert [mail.to for mail in outbox] == [["li@cnipa-cq.example"]]
    assert not Reminder.objects.filter(user=staff).exists()
    assert "zhang: no email address, not reminded" in capsys.readouterr().err


def test_inactive_people_and_other_roles_are_not_reminded(outbox, zhang, patent_office):
    zhang.is_active = False
    zhang.save()
    with_email(make_user("sun", roles.REVIEWER, patent_office), "sun@cnipa-cq.example")

    remind("2014-04-10")

    assert outbox == []


def test_turning_reminder_mail_off_stops_it(outbox, zhang, li):
    supervision.set_mail_preferences(user=zhang, wanted=[])
    remind("2014-04-10")
    assert [mail.to for mail in outbox] == [["li@cnipa-cq.example"]]


def test_check_lists_the_people_without_an_email_address(db, staff, li, reviewer, capsys):
    call_command("send_reminders", check=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "wang\t审核人\t",
        "zhang\t处室人员\t专利管理处",
        "2 user(s) without an email address.",
    ]


@pytest.mark.parametrize("date", ["2014-13-01", "10/05/2014", "tomorrow"])
def test_a_bad_date_is_refused(db, date):
    with pytest.raises(CommandError, match=f"--date must be YYYY-MM-DD, not '{date}'"):
        remind(date)


def test_nothing_is_sent_for_a_year_without_a_plan(outbox, zhang, capsys):
    remind("2016-05-10")

    assert outbox == []
    assert "No reports to remind of on 2016-05-10." in capsys.readouterr().out


def test_the_fourth_quarter_is_reminded_in_january(outbox, zhang):
    remind("2015-01-09")  # the 2014 plan's Q4 reports are due 2015-01-10

    [mail] = outbox
    assert "2014年第4季度(截止日期:2015-01-10,还有1天)" in mail.body


def test_overdue_reminders_stop_four_weeks_after_the_years_last_due_date(outbox, zhang):
    remind("2015-02-07")  # 28 days after 2015-01-10
    remind("2015-02-14")
    assert len(outbox) == 1


def test_demo_accounts_get_example_addresses(db, plan_2014, settings):
    settings.DEBUG = True
    call_command("create_demo_users", password="demo-password-1")
    from django.contrib.auth import get_user_model

    emails = dict(get_user_model().objects.values_list("username", "email"))
    assert emails["zhuanli"] == "zhuanli@example.org"
    assert emails["leader"] == "leader@example.org"
    assert "" not in emails.values()


def test_the_cadence_days_are_settings(outbox, zhang, settings):
    settings.REMINDER_DAYS_BEFORE = [3]
    settings.REMINDER_OVERDUE_EVERY = 14
    sent = []
    for day in days("2014-03-25", "2014-05-10"):
        before = len(outbox)
        remind(day.isoformat())
        if len(outbox) > before:
            sent.append(day.strftime("%m-%d"))
    assert sent == ["04-07", "04-10", "04-24", "05-08"]


def test_the_admin_lists_users_without_an_email_address(client, admin_user, zhang, reviewer):
    client.force_login(admin_user)
    page = client.get(reverse("admin:auth_user_changelist") + "?has_email=no").content.decode()
    assert ">wang<" in page
    assert ">zhang<" not in page
    assert "未登记邮箱" in page
