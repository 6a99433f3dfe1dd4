"""send_reminders: one email a day to each office staff member who still owes reports for the
current quarter (not written, a draft, or returned), listing those milestones."""

import pytest
from django.core.management import CommandError, call_command

from departments import roles
from tasks.models import Reminder

from .conftest import make_user
from .test_report_rules import approved, milestone, returned, submitted, write

PLAN = "重庆市2014年专利事业发展战略推进计划"
MAY_10 = "2014-05-10"  # second quarter; its reports are due 2014-07-10


def with_email(user, email: str):
    user.email = email
    user.save()
    return user


def remind(date: str = MAY_10, **options) -> None:
    call_command("send_reminders", date=date, **options)


@pytest.fixture
def outbox(db, mailoutbox):
    """pytest-django's mailoutbox, set up after the database: setting up a test database
    (Django's TestCase) replaces the outbox list a mailoutbox set up before it returned."""
    return mailoutbox


@pytest.fixture
def zhang(staff):
    """专利管理处 staff with an email address; in Q2 they owe measures 3, 7, 8 and 18."""
    return with_email(staff, "zhang@cnipa-cq.example")


@pytest.fixture
def li(other_staff):
    """法律事务处 staff with an email address; in Q2 they owe measures 9, 10, 22 and 30."""
    return with_email(other_staff, "li@cnipa-cq.example")


def test_each_person_who_owes_reports_gets_one_email(outbox, zhang, li):
    remind()

    assert [(mail.to, mail.subject) for mail in outbox] == [
        (["li@cnipa-cq.example"], "【推进计划跟踪】您有4个进度节点待填报"),
        (["zhang@cnipa-cq.example"], "【推进计划跟踪】您有4个进度节点待填报"),
    ]


def test_the_email_lists_the_missing_draft_and_returned_milestones(outbox, zhang, reviewer):
    write(zhang, milestone(3, 2), 2)
    submitted(zhang, milestone(8, 2), 2)
    returned(zhang, reviewer, milestone(18, 2), 2)
    # 7 is not written at all.

    remind()

    [mail] = outbox
    assert mail.subject == "【推进计划跟踪】您有3个进度节点待填报"
    assert mail.body == "\n".join(
        [
            "zhang,您好:",
            "",
            "以下进度节点2014年第2季度尚未提交或已被退回,请及时填报:",
            f"- {PLAN} 3.推动制定专利纲领性文件 · 第二季度:草稿未提交",
            f"- {PLAN} 7.推进专利价值分析指标体系应用。 · 第二季度:未填报",
            f"- {PLAN} 18.培育知识产权优势企业和示范企业。 · 第二--三季度:已退回待修改",
            "",
            "截止日期:2014-07-10",
        ]
    )


def test_approved_milestones_are_not_listed(outbox, zhang, reviewer):
    for done in [milestone(3, 2), milestone(7, 2), milestone(8, 2)]:
        approved(zhang, reviewer, done, 2)

    remind()

    [mail] = outbox
    assert mail.subject == "【推进计划跟踪】您有1个进度节点待填报"
    assert "18.培育知识产权优势企业和示范企业。" in mail.body
    assert "3.推动制定专利纲领性文件" not in mail.body


def test_a_person_with_nothing_pending_gets_no_email(outbox, zhang, li):
    for target in [milestone(3, 2), milestone(7, 2), milestone(8, 2), milestone(18, 2)]:
        submitted(zhang, target, 2)

    remind()

    assert [mail.to for mail in outbox] == [["li@cnipa-cq.example"]]
    assert not Reminder.objects.filter(user=zhang).exists()


def test_a_person_without_an_email_address_is_skipped(outbox, staff, li, capsys):
    remind()

    assert [mail.to for mail in outbox] == [["li@cnipa-cq.example"]]
    assert not Reminder.objects.filter(user=staff).exists()
    assert "zhang: no email address, not reminded" in capsys.readouterr().err


def test_inactive_people_and_other_roles_are_not_reminded(outbox, zhang, patent_office):
    zhang.is_active = False
    zhang.save()
    with_email(make_user("sun", roles.REVIEWER, patent_office), "sun@cnipa-cq.example")

    remind()

    assert outbox == []


def test_each_reminder_is_recorded_with_its_text(outbox, zhang):
    remind()

    reminder = Reminder.objects.get()
    assert (reminder.user, str(reminder.sent_on)) == (zhang, MAY_10)
    assert reminder.body == outbox[0].body


def test_running_twice_the_same_day_sends_nothing_new(outbox, zhang, li, capsys):
    remind()
    remind()

    assert len(outbox) == 2
    assert Reminder.objects.count() == 2
    assert capsys.readouterr().out.splitlines() == [
        "Sent 2 reminder(s) for 2014-05-10.",
        "Sent 0 reminder(s) for 2014-05-10.",
    ]


def test_the_next_day_sends_again(outbox, zhang):
    remind("2014-05-10")
    remind("2014-05-11")

    assert [mail.to for mail in outbox] == [["zhang@cnipa-cq.example"]] * 2
    assert Reminder.objects.count() == 2


def test_a_person_without_email_is_tried_again_once_they_have_one(outbox, staff):
    remind()
    with_email(staff, "zhang@cnipa-cq.example")
    remind()

    assert [mail.to for mail in outbox] == [["zhang@cnipa-cq.example"]]


@pytest.mark.parametrize("date", ["2014-13-01", "10/05/2014", "tomorrow"])
def test_a_bad_date_is_refused(db, date):
    with pytest.raises(CommandError, match=f"--date must be YYYY-MM-DD, not '{date}'"):
        remind(date)


def test_nothing_is_sent_for_a_year_without_a_plan(outbox, zhang, capsys):
    remind("2015-05-10")

    assert outbox == []
    assert not Reminder.objects.exists()
    assert "No plan for 2015; nothing to send." in capsys.readouterr().out


def test_during_the_grace_period_the_quarter_just_ended_is_reminded(outbox, zhang):
    remind("2014-07-05")  # Q2 reports are due 2014-07-10

    [mail] = outbox
    assert "以下进度节点2014年第2季度尚未提交或已被退回" in mail.body
    assert "截止日期:2014-07-10" in mail.body


def test_in_early_january_last_years_fourth_quarter_is_reminded(outbox, zhang):
    remind("2015-01-05")  # the 2014 plan's Q4 reports are due 2015-01-10

    [mail] = outbox
    assert "以下进度节点2014年第4季度尚未提交或已被退回" in mail.body
