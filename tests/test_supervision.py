"""The supervision loop (督查督办): leaders' instructions and the offices' answers, urging and
its escalation, notices with their mail preferences. Rules through the services, and every
page as each persona."""

import datetime
import importlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from departments import roles
from plan.models import Measure
from supervision import services
from supervision.models import Acknowledgement, Instruction, MailPreference, Notice, Urging

from .conftest import make_user
from .test_cooperation import contribute, district
from .test_report_rules import approved, milestone, returned, submitted

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MAY_10 = datetime.date(2014, 5, 10)

__all__ = ["district"]  # a fixture, imported for the unit persona


@pytest.fixture
def outbox(db, mailoutbox, monkeypatch):
    """The mails sent. Notices mail after the commit, which a test's transaction never
    reaches: here they go at once."""
    monkeypatch.setattr(services, "after_commit", lambda action: action())
    return mailoutbox


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def zhang(staff):
    """专利管理处 staff, responsible for measures 3, 7, 8, 18 and 19."""
    staff.email = "zhang@cnipa-cq.example"
    staff.save()
    return staff


@pytest.fixture
def boss(leader):
    leader.email = "zhao@cnipa-cq.example"
    leader.first_name = "赵局长"
    leader.save()
    return leader


@pytest.fixture
def unit_user(district):
    return make_user("quxian", roles.UNIT, district)


def measure(number: int) -> Measure:
    return Measure.objects.get(number=number, work_area__plan__year=2014)


def instruct(user, number=7, text="请专利管理处抓紧推进,月底前报送进展。", **kw):
    return services.instruct(
        user=user,
        measure=measure(number),
        milestone=kw.get("milestone"),
        text=text,
        due_on=kw.get("due_on"),
        on=kw.get("on", MAY_10),
    )


def urge(user, office, milestones, *, on=MAY_10, reply_by=datetime.date(2014, 5, 15)):
    return services.urge(
        user=user,
        office=office,
        quarter=2,
        milestones=milestones,
        message="请于5月15日前报送第二季度进展。",
        reply_by=reply_by,
        on=on,
    )


# --- Who may instruct, urge and answer ----------------------------------------------------


@pytest.mark.parametrize("persona", ["staff", "reviewer", "admin_user", "unit_user"])
def test_only_leaders_instruct(request, persona):
    with pytest.raises(PermissionDenied):
        instruct(request.getfixturevalue(persona))
    assert not Instruction.objects.exists()


@pytest.mark.parametrize("persona", ["staff", "admin_user", "unit_user"])
def test_only_reviewers_and_leaders_urge(request, persona, patent_office):
    with pytest.raises(PermissionDenied):
        urge(request.getfixturevalue(persona), patent_office, [milestone(7, 2)])
    assert not Urging.objects.exists()


@pytest.mark.parametrize("persona", ["reviewer", "leader"])
def test_reviewers_and_leaders_urge(request, persona, patent_office):
    urging = urge(request.getfixturevalue(persona), patent_office, [milestone(7, 2)])
    assert [item.milestone for item in urging.items.all()] == [milestone(7, 2)]


@pytest.mark.parametrize("persona", ["other_staff", "leader", "reviewer", "unit_user"])
def test_only_the_responsible_offices_staff_answer(request, persona, boss):
    instruction = instruct(boss)
    with pytest.raises(PermissionDenied):
        services.answer(user=request.getfixturevalue(persona), instruction=instruction, text="x")
    with pytest.raises(PermissionDenied):
        services.acknowledge(user=request.getfixturevalue(persona), instruction=instruction)


def test_an_instruction_is_sent_to_the_responsible_offices_staff(outbox, zhang, other_staff, boss):
    instruction = instruct(boss)

    [notice] = Notice.objects.all()
    assert (notice.user, notice.kind) == (zhang, Notice.Kind.INSTRUCTION)
    assert notice.link == reverse("instruction-detail", args=[instruction.pk])
    assert "赵局长 对“7.推进专利价值分析指标体系应用。”作出批示" in notice.text
    [mail] = outbox
    assert mail.to == ["zhang@cnipa-cq.example"]
    assert f"http://127.0.0.1:8000/supervision/instructions/{instruction.pk}/" in mail.body


def test_an_instruction_needs_text_and_a_date_not_in_the_past(boss):
    with pytest.raises(ValidationError, match="请填写批示内容"):
        instruct(boss, text="  ")
    with pytest.raises(ValidationError, match="办理时限不能早于今天"):
        instruct(boss, due_on=MAY_10 - datetime.timedelta(days=1))


def test_a_milestone_of_another_measure_is_refused(boss):
    with pytest.raises(ValidationError, match="不属于这项工作措施"):
        instruct(boss, number=7, milestone=milestone(3, 2))


def test_answering_signs_and_tells_the_leader(outbox, zhang, boss, media):
    instruction = instruct(boss, due_on=datetime.date(2014, 5, 31))
    outbox.clear()
    upload = SimpleUploadedFile("办理情况.pdf", PDF, content_type="application/pdf")

    services.answer(user=zhang, instruction=instruction, text="已召开推进会。", files=[upload])

    [row] = services.instruction_rows(Instruction.objects.all(), MAY_10)
    assert row.state == "answered"
    assert Acknowledgement.objects.get().by == zhang
    answer = instruction.answers.get()
    assert [f.name for f in answer.files.all()] == ["办理情况.pdf"]
    notice = Notice.objects.get(kind=Notice.Kind.ANSWER)
    assert notice.user == boss
    assert [mail.to for mail in outbox] == [["zhao@cnipa-cq.example"]]


def test_an_unanswered_instruction_is_open_then_overdue(zhang, boss):
    instruct(boss, due_on=datetime.date(2014, 5, 31))
    services.acknowledge(user=zhang, instruction=Instruction.objects.get())

    [on_time] = services.instruction_rows(Instruction.objects.all(), datetime.date(2014, 5, 31))
    [late] = services.instruction_rows(Instruction.objects.all(), datetime.date(2014, 6, 1))
    assert (on_time.state, late.state) == ("open", "overdue")
    assert late.office_state(late.offices[0]) == "已签收"


def test_instructions_and_answers_are_append_only(zhang, boss):
    instruction = instruct(boss)
    services.answer(user=zhang, instruction=instruction, text="已办理。")
    instruction.text = "改过的批示"
    with pytest.raises(ValidationError):
        instruction.save()
    with pytest.raises(ValidationError):
        instruction.answers.get().delete()
    assert Instruction.objects.get().text == "请专利管理处抓紧推进,月底前报送进展。"


# --- Urging and escalation ------------------------------------------------------------------


def test_urging_the_same_milestone_twice_a_day_is_refused(reviewer, leader, patent_office):
    urge(reviewer, patent_office, [milestone(7, 2)])
    with pytest.raises(ValidationError, match="今天已催办过"):
        urge(leader, patent_office, [milestone(3, 2), milestone(7, 2)])
    assert Urging.objects.count() == 1
    urge(leader, patent_office, [milestone(7, 2)], on=MAY_10 + datetime.timedelta(days=1))
    assert Urging.objects.count() == 2


def test_urging_another_offices_milestone_is_refused(reviewer, legal_office):
    with pytest.raises(ValidationError, match="不属于该处室"):
        urge(reviewer, legal_office, [milestone(7, 2)])


def test_the_urged_office_is_notified(outbox, zhang, other_staff, reviewer, patent_office):
    urging = urge(reviewer, patent_office, [milestone(7, 2)])
    [notice] = Notice.objects.all()
    assert (notice.user, notice.kind) == (zhang, Notice.Kind.URGING)
    assert notice.link == reverse("urging-detail", args=[urging.pk])
    assert [mail.to for mail in outbox] == [["zhang@cnipa-cq.example"]]


def escalate(date: str):
    call_command("supervise", date=date)


def test_escalation_comes_the_day_after_the_date_and_only_once(
    outbox, zhang, reviewer, boss, patent_office
):
    urging = urge(reviewer, patent_office, [milestone(7, 2)])
    outbox.clear()

    escalate("2014-05-15")  # the reply date itself: not yet
    assert Notice.objects.filter(kind=Notice.Kind.ESCALATION).count() == 0
    escalate("2014-05-16")
    escalate("2014-05-17")

    [notice] = Notice.objects.filter(kind=Notice.Kind.ESCALATION)
    assert notice.user == boss
    assert notice.link == reverse("urging-detail", args=[urging.pk])
    assert "专利管理处 未在2014-05-15前办理催办事项" in notice.text
    assert [mail.to for mail in outbox] == [["zhao@cnipa-cq.example"]]
    urging.refresh_from_db()
    assert urging.escalated_at is not None


def test_an_instruction_unanswered_after_its_date_is_told_to_office_and_leader_once(
    outbox, zhang, other_staff, boss
):
    instruction = instruct(boss, due_on=datetime.date(2014, 5, 15))
    outbox.clear()

    escalate("2014-05-15")  # the date itself: not yet
    assert not Notice.objects.filter(kind=Notice.Kind.INSTRUCTION_OVERDUE).exists()
    escalate("2014-05-16")
    escalate("2014-05-17")

    told = Notice.objects.filter(kind=Notice.Kind.INSTRUCTION_OVERDUE).order_by("user__username")
    assert [notice.user for notice in told] == [zhang, boss]  # zhang, zhao: not li's office
    for notice in told:
        assert notice.link == reverse("instruction-detail", args=[instruction.pk])
        assert "办理时限2014-05-15已过,专利管理处尚未报送办理情况" in notice.text
    assert sorted(mail.to[0] for mail in outbox) == [
        "zhang@cnipa-cq.example",
        "zhao@cnipa-cq.example",
    ]
    instruction.refresh_from_db()
    assert instruction.overdue_notified_at is not None


def test_an_answered_instruction_or_one_without_a_date_is_never_overdue(zhang, boss):
    answered = instruct(boss, due_on=datetime.date(2014, 5, 15))
    services.answer(user=zhang, instruction=answered, text="已办理。")
    instruct(boss, text="长期关注。")  # no date

    escalate("2014-06-30")

    assert not Notice.objects.filter(kind=Notice.Kind.INSTRUCTION_OVERDUE).exists()
    assert Instruction.objects.filter(overdue_notified_at__isnull=False).count() == 0


def test_someone_in_two_responsible_offices_answers_for_each_in_turn(
    zhang, boss, patent_office, legal_office
):
    measure(7).responsible_offices.add(legal_office)
    zhang.departments.add(legal_office)
    instruction = instruct(boss, due_on=datetime.date(2014, 5, 15))

    first = services.answer(user=zhang, instruction=instruction, text="专利管理处已办理。")
    second = services.answer(user=zhang, instruction=instruction, text="法律事务处已办理。")
    escalate("2014-05-16")

    assert {first.office, second.office} == {patent_office, legal_office}
    assert not Notice.objects.filter(kind=Notice.Kind.INSTRUCTION_OVERDUE).exists()


def test_instructions_already_past_due_when_the_reminder_arrives_are_not_mailed_at_once(
    outbox, zhang, boss
):
    """The migration that brings the reminder counts instructions past their date as told,
    so the first supervise run does not mail every old instruction; later ones are told."""
    from django.apps import apps

    migration = importlib.import_module("supervision.migrations.0002_instruction_overdue_notice")
    old = instruct(boss, due_on=datetime.date(2014, 5, 15))
    later = instruct(boss, due_on=datetime.date(2099, 5, 15), text="明年再办。")
    outbox.clear()

    migration.past_due_told(apps, None)
    escalate("2100-01-01")

    told = Notice.objects.filter(kind=Notice.Kind.INSTRUCTION_OVERDUE)
    assert {notice.link for notice in told} == {reverse("instruction-detail", args=[later.pk])}
    old.refresh_from_db()
    assert old.overdue_notified_at is not None


def test_a_reply_settles_the_urging(zhang, reviewer, boss, patent_office):
    urging = urge(reviewer, patent_office, [milestone(7, 2)])
    services.reply(user=zhang, urging_id=urging.pk, text="已于今日报送。")
    escalate("2014-05-16")
    assert not Notice.objects.filter(kind=Notice.Kind.ESCALATION).exists()
    with pytest.raises(ValidationError, match="已经反馈过"):
        services.reply(user=zhang, urging_id=urging.pk, text="再次反馈")


def test_submitting_every_urged_report_settles_the_urging(zhang, reviewer, boss, patent_office):
    urge(reviewer, patent_office, [milestone(7, 2), milestone(3, 2)])
    submitted(zhang, milestone(7, 2), 2)
    escalate("2014-05-16")
    assert Notice.objects.filter(kind=Notice.Kind.ESCALATION).count() == 1  # 3 is still owed

    may_20 = datetime.date(2014, 5, 20)
    urging = urge(reviewer, patent_office, [milestone(7, 2)], on=may_20, reply_by=may_20)
    escalate("2014-05-21")
    urging.refresh_from_db()
    assert urging.escalated_at is None


def test_only_the_urged_office_replies(other_staff, reviewer, patent_office):
    urging = urge(reviewer, patent_office, [milestone(7, 2)])
    with pytest.raises(PermissionDenied):
        services.reply(user=other_staff, urging_id=urging.pk, text="不是我们的")


# --- Notices from tasks (signals) and preferences ------------------------------------------


def test_a_return_notifies_the_office_with_the_comment(outbox, zhang, reviewer):
    report = returned(zhang, reviewer, milestone(7, 2), 2)
    [notice] = Notice.objects.all()
    assert (notice.user, notice.kind) == (zhang, Notice.Kind.RETURNED)
    assert "审核意见:请补充数据。" in notice.text
    assert notice.link == reverse("report-detail", args=[report.pk])
    assert "审核意见:请补充数据。" in outbox[0].body


def test_an_approval_notifies_the_office(zhang, reviewer):
    approved(zhang, reviewer, milestone(7, 2), 2)
    assert list(Notice.objects.values_list("user__username", "kind")) == [("zhang", "approved")]


def test_a_first_contribution_notifies_the_responsible_office(zhang, unit_user):
    """Measure 3 (专利管理处) names the district offices as cooperating."""
    first = contribute(unit_user, milestone(3, 3), 4)
    contribute(unit_user, milestone(3, 3), 4, base_version=first.version, text="补充情况")

    [notice] = Notice.objects.all()
    assert (notice.user, notice.kind) == (zhang, Notice.Kind.CONTRIBUTION)
    assert "配合单位各区县(自治县)知识产权局报送了" in notice.text
    assert notice.link == reverse("report-edit", args=[milestone(3, 3).pk, 4])


def test_mail_can_be_turned_off_per_kind(outbox, zhang, reviewer):
    services.set_mail_preferences(user=zhang, wanted=["approved"])
    returned(zhang, reviewer, milestone(7, 2), 2)
    approved(zhang, reviewer, milestone(3, 2), 2)

    assert Notice.objects.filter(user=zhang).count() == 2  # both still in the app
    assert [mail.subject for mail in outbox] == ["【推进计划跟踪】报告审核通过"]
    assert MailPreference.objects.get(user=zhang, kind="returned").mail is False


def test_mail_is_on_by_default(zhang):
    assert all(services.mail_preferences(zhang).values())


# --- Pages, as each persona -----------------------------------------------------------------


def test_the_header_count_and_the_notice_list(client, zhang, reviewer):
    returned(zhang, reviewer, milestone(7, 2), 2)
    client.force_login(zhang)

    assert client.get(reverse("notice-count")).json() == {"unread": 1}
    page = client.get(reverse("notice-list")).content.decode()
    assert "请补充数据。" in page
    assert 'data-notice-count="/notices/unread.json"' in page
    notice = Notice.objects.get()
    response = client.get(reverse("notice-open", args=[notice.pk]))
    assert response.url == notice.link
    assert client.get(reverse("notice-count")).json() == {"unread": 0}


def test_another_persons_notice_is_refused(client, zhang, other_staff, reviewer):
    returned(zhang, reviewer, milestone(7, 2), 2)
    client.force_login(other_staff)
    response = client.get(reverse("notice-open", args=[Notice.objects.get().pk]))
    assert response.status_code == 403
    assert Notice.objects.get().read_at is None


def test_the_settings_page_saves_preferences(client, zhang):
    client.force_login(zhang)
    response = client.post(reverse("notice-settings"), {"kinds": ["urging", "escalation"]})
    assert response.status_code == 302
    wanted = services.mail_preferences(zhang)
    assert [k for k, on in wanted.items() if on] == ["urging", "escalation"]
    assert "urging" in client.get(reverse("notice-settings")).content.decode()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("leader", 200), ("reviewer", 403), ("staff", 403), ("admin_user", 403), ("unit_user", 403)],
)
def test_the_instruction_form_is_for_leaders(client, request, persona, status, plan_2014):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("instruction-new", args=[measure(7).pk])
    assert client.get(url).status_code == status
    posted = client.post(url, {"text": "请抓紧推进。"})
    assert posted.status_code == (302 if status == 200 else 403)
    assert Instruction.objects.count() == (1 if status == 200 else 0)


def test_anonymous_visitors_are_sent_to_log_in(client, plan_2014):
    for url in [
        reverse("notice-list"),
        reverse("supervision-overview"),
        reverse("instruction-new", args=[measure(7).pk]),
    ]:
        assert client.get(url)["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("leader", 200),
        ("reviewer", 200),
        ("admin_user", 200),
        ("staff", 200),
        ("other_staff", 404),  # those who may not read it are told it does not exist
        ("unit_user", 404),
    ],
)
def test_who_reads_an_instruction(client, request, boss, persona, status):
    instruction = instruct(boss)
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("instruction-detail", args=[instruction.pk])).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"), [("staff", 302), ("other_staff", 404), ("leader", 403)]
)
def test_who_answers_through_the_page(client, request, boss, persona, status, media):
    instruction = instruct(boss)
    client.force_login(request.getfixturevalue(persona))
    url = reverse("instruction-answer", args=[instruction.pk])
    assert client.post(url, {"text": "已办理。"}).status_code == status
    assert instruction.answers.count() == (1 if status == 302 else 0)


def test_an_answer_file_of_the_wrong_type_is_refused_with_a_message(client, staff, boss, media):
    instruction = instruct(boss)
    client.force_login(staff)
    bad = SimpleUploadedFile("a.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(
        reverse("instruction-answer", args=[instruction.pk]),
        {"text": "已办理。", "files": [bad]},
        follow=True,
    )
    assert "类型不允许" in response.content.decode()
    assert not instruction.answers.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("reviewer", 200), ("leader", 200), ("staff", 403), ("admin_user", 403), ("unit_user", 403)],
)
def test_who_may_open_the_urging_form(client, request, persona, status, patent_office):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("urging-new", args=[patent_office.pk]) + "?quarter=2"
    assert client.get(url).status_code == status


def test_the_urging_form_refuses_a_second_urging_the_same_day(client, reviewer, patent_office):
    client.force_login(reviewer)
    url = reverse("urging-new", args=[patent_office.pk]) + "?quarter=2"
    data = {"message": "请抓紧报送。", "reply_by": "2099-01-01", "milestones": [milestone(7, 2).pk]}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 200
    assert "今天已催办过" in again.content.decode()
    assert Urging.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "status"),
    [("leader", 200), ("reviewer", 200), ("admin_user", 200), ("staff", 403), ("unit_user", 403)],
)
def test_who_sees_the_supervision_page_and_the_bulletin(
    client, request, persona, status, plan_2014
):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("supervision-overview")).status_code == status
    assert client.get(reverse("bulletin-download")).status_code == status


def test_my_work_shows_the_urging_and_the_instruction(client, zhang, reviewer, boss, patent_office):
    urge(reviewer, patent_office, [milestone(7, 2)])
    instruct(boss, text="请加快价值分析指标体系应用。")
    client.force_login(zhang)
    page = client.get(reverse("my-work") + "?quarter=2").content.decode()
    assert "请于5月15日前报送第二季度进展。" in page
    assert "请加快价值分析指标体系应用。" in page


def test_the_dashboard_shows_figures_and_links(client, zhang, reviewer, boss, patent_office):
    urge(reviewer, patent_office, [milestone(7, 2)], reply_by=MAY_10)
    escalate("2014-05-11")
    instruct(boss)
    client.force_login(boss)
    page = client.get(reverse("dashboard")).content.decode()
    assert "领导批示 1 件,未办理 1 件,其中逾期 0 件。" in page
    assert "1 项催办逾期未反馈,已提级" in page
    assert reverse("bulletin-download") in page
    overview = client.get(reverse("supervision-overview")).content.decode()
    assert reverse("instruction-detail", args=[Instruction.objects.get().pk]) in overview


def test_nothing_of_supervision_is_on_the_public_page(client, boss, plan_2014):
    plan_2014.published = True
    plan_2014.save()
    instruct(boss, text="机密批示内容")
    page = client.get(reverse("public-plan", args=[plan_2014.pk])).content.decode()
    assert "机密批示内容" not in page
    assert "领导批示" not in page


# --- Bounded queries -------------------------------------------------------------------------


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def test_the_notice_list_does_not_grow_with_the_notices(
    client, zhang, django_assert_max_num_queries
):
    client.force_login(zhang)
    make = lambda n: Notice.objects.bulk_create(  # noqa: E731
        Notice(user=zhang, kind="urging", text="催办", link="/work/", created_at=timezone.now())
        for _ in range(n)
    )
    make(1)
    # session, user with roles (one query), the unread count, the page's count, its notices
    with django_assert_max_num_queries(5):
        client.get(reverse("notice-list"))
    make(25)
    with django_assert_max_num_queries(5):
        client.get(reverse("notice-list"))


def test_the_supervision_page_does_not_grow_with_instructions_and_urgings(
    client, zhang, reviewer, boss, patent_office
):
    instruct(boss)
    urge(reviewer, patent_office, [milestone(7, 2)])
    client.force_login(boss)
    url = reverse("supervision-overview") + "?quarter=2"
    small = queries_of(client, url)
    for day in range(1, 11):
        instruction = instruct(boss, number=3, text=f"批示{day}")
        services.answer(user=zhang, instruction=instruction, text="已办理。")
        on = MAY_10 + datetime.timedelta(days=day)
        urge(reviewer, patent_office, [milestone(7, 2), milestone(3, 2)], on=on, reply_by=on)
    # session, user, roles, plan, plans, instructions with their offices, acknowledgements
    # and answers (4), urgings and their milestones (2), the dashboard's three figures queries
    assert queries_of(client, url) == small <= 14


def test_instruction_and_urging_pages_are_bounded(client, zhang, reviewer, boss, patent_office):
    instruction = instruct(boss)
    for n in range(5):
        services.answer(user=zhang, instruction=instruction, text=f"办理{n}")
    urging = urge(reviewer, patent_office, [milestone(7, 2), milestone(3, 2), milestone(8, 2)])
    client.force_login(boss)
    # the instruction, its rows (4), its answers with their files (2), acknowledgements, and
    # session, user, roles
    assert queries_of(client, reverse("instruction-detail", args=[instruction.pk])) <= 11
    # session, user, roles, the urging, its milestones
    assert queries_of(client, reverse("urging-detail", args=[urging.pk])) <= 5


def test_a_mail_server_that_is_down_does_not_undo_the_notice(zhang, reviewer, monkeypatch, caplog):
    def refuse(self, messages):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(services, "after_commit", lambda action: action())
    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    returned(zhang, reviewer, milestone(7, 2), 2)

    assert Notice.objects.filter(user=zhang, kind="returned").count() == 1
    assert "could not send 1 notice mail(s)" in caplog.text


def test_notices_are_written_in_the_sites_language(zhang, reviewer):
    """A reviewer working in English returns a report to an office that reads Chinese."""
    with translation.override("en"):
        returned(zhang, reviewer, milestone(7, 2), 2)
    assert "的报告被退回,审核意见:请补充数据。" in Notice.objects.get().text


def test_the_english_notice_pages(client, zhang):
    client.force_login(zhang)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "No notices." in client.get(reverse("notice-list")).content.decode()
    settings_page = client.get(reverse("notice-settings")).content.decode()
    assert "Choose which are also emailed to you" in settings_page
    assert "Report approved" in settings_page


def test_only_an_office_can_be_urged(client, reviewer, district):
    client.force_login(reviewer)
    assert client.get(reverse("urging-new", args=[district.pk])).status_code == 404
