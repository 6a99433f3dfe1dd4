"""Who may open and post what: a matrix built from the URL configuration.

Every named URL of the site has a row in EXPECTED saying, for each persona and for GET and
POST, what the response is: a status code, or "302→<url name>" for a redirect (the name the
Location resolves to). A URL the resolver knows and the table does not (or the other way
round) fails test_every_named_url_has_a_row, so a new view cannot be added without deciding
who may use it. The Django admin and the import-export admin pages share one row ("admin:*"):
only staff users with admin rights get in.

Each (url, persona, method) is its own test. POSTs carry valid data, so a permitted write
succeeds and a refused one is refused for want of permission, not for bad data; the report
tables, the evidence files and the files on disk are compared before and after every request.

Personas: anonymous (no login); staff (专利管理处, responsible for measures 3, 7, 8, 18, 19);
other_staff (法律事务处); reviewer; leader; unit (各区县(自治县)知识产权局, cooperating on
measure 18) and other_unit (国家知识产权培训基地, cooperating elsewhere); admin_user (a
superuser) and admin_group (the 管理员 role, staff but not a superuser).

The data (2014 plan, personas, a submitted report with an evidence PDF, an approved report, a
draft, a cooperating unit's contribution with a file) is built once for the module inside a
transaction that is rolled back at the end; each test runs in a savepoint of it."""

import datetime
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404

from departments import roles
from departments.models import Department
from plan.models import Milestone, Plan
from supervision import services as supervision
from supervision.models import (
    Acknowledgement,
    AnswerFile,
    Instruction,
    InstructionAnswer,
    Notice,
    Urging,
)
from tasks import offline, services
from tasks.models import Contribution, ContributionFile, Evidence, ProgressReport, ReportVersion

from . import builders
from .conftest import PASSWORD, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DISTRICTS = "各区县(自治县)知识产权局"  # a cooperating unit that is not generic
NEW_PASSWORD = "Plan-Tracker-2014-new!"
PERSONAS = [
    "anonymous",
    "staff",
    "other_staff",
    "reviewer",
    "leader",
    "unit",
    "other_unit",
    "admin_user",
    "admin_group",
]
METHODS = ["GET", "POST"]

# --- Outcomes ---------------------------------------------------------------------------

LOGIN = "302→login"
ADMIN_LOGIN = "302→admin:login"
ADMIN_ROW = "admin:*"
#: admin_user on an admin page: let in (200, or the admin's own answer for a page that does
#: not apply: 403 read-only, 404, 405, "302→admin:index" for a missing object), never a login.
#: An admin's POSTs are sent only to the import upload pages (the others would change data).
ADMITTED = "admitted"
ADMITTED_OUTCOMES = {200, 403, 404, 405, "302→admin:index"}
#: Admin pages every admin must see (200) with GET.
ADMIN_MUST_SEE = ("_changelist", "_import", "_export")
#: The import's confirm step: POST only, with the preview's hidden fields.
CONFIRM = "_process_import"


def row(anonymous=(LOGIN, LOGIN), **personas) -> dict:
    """A row of EXPECTED: persona → (GET, POST); personas not named get `default`, and
    admin_group (the 管理员 role without superuser) what admin_user gets."""
    default = personas.pop("default")
    cells = {"anonymous": anonymous}
    for persona in PERSONAS[1:]:
        cells[persona] = personas.get(persona, default)
    cells["admin_group"] = personas.get("admin_group", cells["admin_user"])
    return {p: dict(zip(METHODS, cells[p], strict=True)) for p in PERSONAS}


READ_ONLY = (200, 405)
FORBIDDEN_PAGE = (403, 405)
FORBIDDEN = (403, 403)
DASHBOARD = row(default=FORBIDDEN_PAGE, reviewer=READ_ONLY, leader=READ_ONLY, admin_user=READ_ONLY)
NOT_FOUND_PAGE = (404, 405)  # an object the persona may not know exists
REPORT_READERS = row(
    default=NOT_FOUND_PAGE,
    staff=READ_ONLY,
    reviewer=READ_ONLY,
    leader=READ_ONLY,
    admin_user=READ_ONLY,
)
PUBLIC = (200, 405)  # a page anyone may read, logged in or not
#: a POST about an instruction or urging by those who may not read it (it "does not exist")
OUTSIDERS_POST_404 = {p: (405, 404) for p in ("other_staff", "unit", "other_unit")}
FAVICON = "302→/static/favicon.ico"

EXPECTED: dict[str, dict[str, dict[str, object]]] = {
    # plan
    "home": row(
        staff=("302→my-work", 405),
        other_staff=("302→my-work", 405),
        unit=("302→unit-work", 405),
        other_unit=("302→unit-work", 405),
        reviewer=("302→review-queue", 405),
        leader=("302→dashboard", 405),
        default=("302→plan-document", 405),  # admin_user: the plan
    ),
    "ping": row(default=READ_ONLY),  # the load balancer's logged-in session check
    "plan-latest": row(default=("302→plan-document", 405)),
    "plan-document": row(default=READ_ONLY),
    "plan-xlsx": DASHBOARD,
    # the public progress page of a published plan: no login
    "public-index": row(anonymous=PUBLIC, default=PUBLIC),
    "public-plan": row(anonymous=PUBLIC, default=PUBLIC),
    # the office's work
    "my-work": row(default=READ_ONLY),
    "report-edit": row(default=FORBIDDEN, staff=(200, "302→my-work")),
    "offline-download": row(default=FORBIDDEN_PAGE, staff=READ_ONLY, other_staff=READ_ONLY),
    # other_staff may upload, but a file of 专利管理处's milestones is refused row by row
    "offline-upload": row(default=FORBIDDEN, staff=(200, "302→my-work"), other_staff=(200, 200)),
    "report-detail": REPORT_READERS,
    "evidence-download": REPORT_READERS,
    # review
    "report-review": row(default=(405, 403), reviewer=(405, "302→review-queue")),
    # the office takes back a submitted report no reviewer has opened
    "report-withdraw": row(default=(405, 403), staff=(405, "302→report-edit")),
    # the world's report is submitted: the office may ask, and is told it cannot (no write)
    "evidence-remove": row(default=(405, 403), staff=(405, "302→report-edit")),
    "review-queue": row(default=FORBIDDEN_PAGE, reviewer=READ_ONLY),
    # dashboards
    "dashboard": DASHBOARD,
    "dashboard-changes": DASHBOARD,
    "dashboard-xlsx": DASHBOARD,
    "dashboard-measure": DASHBOARD,
    "dashboard-office": DASHBOARD,
    # cooperating units
    "unit-work": row(default=FORBIDDEN_PAGE, unit=READ_ONLY, other_unit=READ_ONLY),
    "contribution-edit": row(default=FORBIDDEN, unit=(200, "302→unit-work")),
    "contribution-file": row(
        default=NOT_FOUND_PAGE,
        unit=READ_ONLY,
        staff=READ_ONLY,
        reviewer=READ_ONLY,
        leader=READ_ONLY,
        admin_user=READ_ONLY,
    ),
    # readers of the file may not change it (403); others may not know it exists (404)
    "contribution-file-remove": row(
        default=(405, 404),
        unit=(405, "302→contribution-edit"),
        staff=(405, 403),
        reviewer=(405, 403),
        leader=(405, 403),
        admin_user=(405, 403),
    ),
    # supervision (督办): notices, instructions, urging, the bulletin
    "notice-list": row(default=READ_ONLY),
    "notice-count": row(default=READ_ONLY),
    # a notice of zhang's (staff): it opens the instruction it is about; nobody else's
    "notice-open": row(default=FORBIDDEN_PAGE, staff=("302→instruction-detail", 405)),
    "notice-read-all": row(default=(405, "302→notice-list")),
    "notice-settings": row(default=(200, "302→notice-settings")),
    "supervision-overview": DASHBOARD,
    "bulletin-download": DASHBOARD,
    "instruction-new": row(default=FORBIDDEN, leader=(200, "302→instruction-detail")),
    "instruction-detail": REPORT_READERS,
    # those who may read it but not answer: 403; those who may not know it exists: 404
    "instruction-acknowledge": row(
        default=(405, 403), staff=(405, "302→instruction-detail"), **OUTSIDERS_POST_404
    ),
    "instruction-answer": row(
        default=(405, 403), staff=(405, "302→instruction-detail"), **OUTSIDERS_POST_404
    ),
    "answer-file": REPORT_READERS,
    "urging-new": row(
        default=FORBIDDEN,
        reviewer=(200, "302→urging-detail"),
        leader=(200, "302→urging-detail"),
    ),
    "urging-detail": REPORT_READERS,
    "urging-reply": row(default=(405, 403), staff=(405, "302→urging-detail"), **OUTSIDERS_POST_404),
    # django.contrib.auth
    "login": row(anonymous=(200, "302→home"), default=(200, "302→home")),
    "logout": row(default=(405, LOGIN)),
    "password_change": row(default=(200, "302→password_change_done")),
    "password_change_done": row(default=READ_ONLY),
    "set_language": row(anonymous=("302→home", "302→home"), default=("302→home", "302→home")),
    # browsers ask for /favicon.ico on their own, logged in or not: the static file
    "favicon": row(anonymous=(FAVICON, 405), default=(FAVICON, 405)),
    # The Django admin and the import-export admin: one row for all of its URLs.
    ADMIN_ROW: row(
        anonymous=(LOGIN, LOGIN),  # or ADMIN_LOGIN: either login page
        admin_user=(ADMITTED, ADMITTED),
        default=(ADMIN_LOGIN, ADMIN_LOGIN),
    ),
}

#: Pages an anonymous visitor may open; everything else sends them to the login page.
ANONYMOUS_OPEN = {
    "public-index",
    "public-plan",
    "login",
    "set_language",
    "favicon",
}
#: The (url, persona) POSTs that write a report, a contribution or a file; every other
#: request leaves them as they were.
WRITES = {
    ("report-edit", "staff"),
    ("offline-upload", "staff"),
    ("report-review", "reviewer"),
    ("report-withdraw", "staff"),
    ("contribution-edit", "unit"),
    ("contribution-file-remove", "unit"),
    ("instruction-new", "leader"),
    ("instruction-acknowledge", "staff"),
    ("instruction-answer", "staff"),
    ("urging-new", "reviewer"),
    ("urging-new", "leader"),
    ("urging-reply", "staff"),
}
#: The admin's own login and logout: open to all (test_the_admin_login_page_is_the_gate).
ADMIN_GATES = {"admin:login", "admin:logout"}


# --- The URL configuration --------------------------------------------------------------


def url_patterns(patterns=None, namespace=None):
    """(namespace, name with namespace, pattern) of every URL pattern, walked recursively."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern.url_patterns, inner)
        else:
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield namespace, name, pattern


def site_names() -> set[str]:
    return {name for namespace, name, _p in url_patterns() if name and namespace != "admin"}


def admin_names() -> list[str]:
    return sorted({name for namespace, name, _p in url_patterns() if name and namespace == "admin"})


def test_every_named_url_has_a_row():
    """A new URL without a row fails here; so does a row for a URL that is gone."""
    names = site_names()
    assert sorted(names - set(EXPECTED)) == [], "URLs without a row in EXPECTED"
    assert sorted(set(EXPECTED) - names - {ADMIN_ROW}) == [], "rows for URLs that do not exist"
    assert admin_names(), "the admin is mounted"


def test_every_url_outside_the_admin_has_a_name():
    """An unnamed pattern could not have a row (the admin's own are covered by its row)."""
    unnamed = [
        str(pattern.pattern)
        for namespace, name, pattern in url_patterns()
        if name is None and namespace != "admin"
    ]
    assert unnamed == []


def test_every_row_names_every_persona_and_method():
    for name, cells in EXPECTED.items():
        assert set(cells) == set(PERSONAS), name
        for persona, outcome in cells.items():
            assert set(outcome) == set(METHODS), (name, persona)
            assert None not in outcome.values(), (name, persona)


def test_anonymous_users_are_sent_to_login_except_on_public_pages():
    for name, cells in EXPECTED.items():
        if name in ANONYMOUS_OPEN:
            assert LOGIN not in cells["anonymous"].values(), name
        else:
            assert set(cells["anonymous"].values()) == {LOGIN}, name


def test_only_the_writes_listed_succeed_in_the_table():
    """A POST that the table says succeeds (a redirect to a page that is not a login page,
    on a page that writes reports) is in WRITES, and the other way round."""
    writing_pages = {name for name, _persona in WRITES}
    for name in writing_pages:
        for persona in PERSONAS:
            outcome = EXPECTED[name][persona]["POST"]
            succeeded = isinstance(outcome, str) and outcome not in (LOGIN, ADMIN_LOGIN)
            assert succeeded == ((name, persona) in WRITES), (name, persona, outcome)


# --- The data ---------------------------------------------------------------------------


@dataclass
class World:
    users: dict
    plan: Plan
    reported: Milestone  # measure 7, 第四季度: a submitted report with evidence
    unreported: Milestone  # measure 8, 第四季度: nothing written yet
    cooperated: Milestone  # measure 18, 第四季度: the district offices' contribution
    report: ProgressReport
    approved: ProgressReport  # measure 3, 第一季度: approved, 进行中 77%
    draft: ProgressReport  # measure 3, 第二季度: a draft at 37%
    evidence: Evidence
    contribution: Contribution
    contribution_file: ContributionFile
    instruction: Instruction  # on measure 7, not yet answered
    answer_file: AnswerFile  # of another instruction on measure 7, answered
    urging: Urging  # of 专利管理处 about measure 7, 第四季度
    notice: Notice  # zhang's, about the unanswered instruction
    offline_file: bytes
    media: Path


def pdf(name="佐证材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def filled_template(user, plan: Plan, milestone: Milestone) -> bytes:
    """The offline template of `user` for 2014 Q4 with `milestone`'s row filled in."""
    book = offline.build_template(user, plan, 4)
    sheet = book.active
    for cells in sheet.iter_rows(min_row=2):
        if cells[0].value == milestone.pk:
            for field, value in (("status", "进行中"), ("percent", 30), ("done_text", "已起草。")):
                cells[offline.COLUMN[field] - 1].value = value
            break
    else:
        raise AssertionError(f"milestone {milestone.pk} is not in the template")
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast), django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world(media)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def build_world(media: Path) -> World:
    call_command("loaddata", "plan_2014", verbosity=0)
    Plan.objects.filter(year=2014).update(published=True)
    plan = Plan.objects.get(year=2014)
    patent = Department.objects.get(name="专利管理处")
    users = {
        "staff": make_user("zhang", roles.STAFF, patent),
        "other_staff": make_user("li", roles.STAFF, Department.objects.get(name="法律事务处")),
        "reviewer": make_user("wang", roles.REVIEWER),
        "leader": make_user("zhao", roles.LEADER),
        # a member of the district offices, a cooperating unit of measures 3, 18 and 19
        "unit": make_user("quxian", roles.UNIT, Department.objects.get(name=DISTRICTS)),
        # a member of 国家知识产权培训基地, cooperating on measure 16 only
        "other_unit": make_user(
            "jidi", roles.UNIT, Department.objects.get(name="国家知识产权培训基地")
        ),
        "admin_user": make_user("admin1", roles.ADMIN),
        "admin_group": make_user("clerk", roles.ADMIN),  # is_staff, not a superuser
    }
    users["admin_user"].is_superuser = True
    users["admin_user"].save()
    for user in users.values():
        user.email = f"{user.username}@example.gov.cn"
        user.save()

    due = Milestone.objects.scheduled_in(4).filter(measure__work_area__plan=plan)
    reported = due.get(measure__number=7, label="第四季度")
    unreported = due.get(measure__number=8, label="第四季度")
    cooperated = due.get(measure__number=18, label="第四季度")
    first = due.get(measure__number=3, order=3)  # 第三--四季度: filled in the offline file
    draft = builders.report(reported, 4, state="draft")
    report = services.save_report(
        user=users["staff"],
        milestone=reported,
        quarter=4,
        base_version=draft.version,
        status="in_progress",
        percent=60,
        done_text="已完成指标体系初稿。",
        problems_text="",
        submit=True,
        files=[pdf()],
    )
    approved = builders.report(
        Milestone.objects.get(measure__work_area__plan=plan, measure__number=3, order=1),
        1,
        percent=77,
        reviewer=users["reviewer"],
    )
    draft_q2 = builders.report(
        Milestone.objects.get(measure__work_area__plan=plan, measure__number=3, order=2),
        2,
        percent=37,
        state="draft",
    )
    contribution = services.save_contribution(
        user=users["unit"],
        milestone=cooperated,
        quarter=4,
        base_version=0,
        text="协会组织了两场培训。",
        figures="120人次",
        files=[pdf("培训签到表.pdf")],
    )
    answered = supervision.instruct(
        user=users["leader"], measure=reported.measure, milestone=None, text="请加快。", due_on=None
    )
    supervision.answer(
        user=users["staff"], instruction=answered, text="已加快。", files=[pdf("办理.pdf")]
    )
    instruction = supervision.instruct(
        user=users["leader"],
        measure=reported.measure,
        milestone=reported,
        text="请报送。",
        due_on=None,
    )
    urging = supervision.urge(
        user=users["reviewer"],
        office=patent,
        quarter=4,
        milestones=[reported],
        message="请抓紧报送。",
        reply_by=datetime.date(2099, 1, 1),
    )
    return World(
        users=users,
        plan=plan,
        reported=reported,
        unreported=unreported,
        cooperated=cooperated,
        report=report,
        approved=approved,
        draft=draft_q2,
        evidence=Evidence.objects.get(report=report),
        contribution=contribution,
        contribution_file=ContributionFile.objects.get(contribution=contribution),
        instruction=instruction,
        answer_file=AnswerFile.objects.get(answer__instruction=answered),
        urging=urging,
        notice=Notice.objects.get(
            user=users["staff"], link__endswith=reverse("instruction-detail", args=[instruction.pk])
        ),
        offline_file=filled_template(users["staff"], plan, first),
        media=media,
    )


@pytest.fixture(autouse=True)
def _no_cached_pages():
    """The public pages are cached (cache_page); no test may see another's, nor leave its
    own to the other test modules."""
    cache.clear()
    yield
    cache.clear()


def url_of(name: str, world: World) -> str:
    """The URL of `name` with arguments taken from the world's objects."""
    q4 = f"?plan={world.plan.pk}&quarter=4"
    arguments = {
        "plan-document": [world.plan.pk],
        "plan-xlsx": [world.plan.pk],
        "public-plan": [world.plan.pk],
        "report-edit": [world.unreported.pk, 4],
        "report-detail": [world.report.pk],
        "report-review": [world.report.pk],
        "report-withdraw": [world.report.pk],
        "evidence-remove": [world.evidence.pk],
        "evidence-download": [world.evidence.pk],
        "dashboard-measure": [world.reported.measure_id],
        "dashboard-office": [
            world.plan.pk,
            world.reported.measure.responsible_offices.order_by("pk").first().pk,
        ],
        "contribution-edit": [world.cooperated.pk, 4],
        "contribution-file": [world.contribution_file.pk],
        "contribution-file-remove": [world.contribution_file.pk],
        "notice-open": [world.notice.pk],
        "instruction-new": [world.reported.measure_id],
        "instruction-detail": [world.instruction.pk],
        "instruction-acknowledge": [world.instruction.pk],
        "instruction-answer": [world.instruction.pk],
        "answer-file": [world.answer_file.pk],
        "urging-new": [world.urging.office_id],
        "urging-detail": [world.urging.pk],
        "urging-reply": [world.urging.pk],
    }
    query = {
        "my-work": q4,
        "offline-download": q4,
        "offline-upload": q4,
        "unit-work": q4,
        "urging-new": q4,
    }
    return reverse(name, args=arguments.get(name, [])) + query.get(name, "")


def post_data(name: str, world: World, persona: str) -> dict:
    """What the page's form posts when filled in properly."""
    if name == "report-edit":
        return {
            "version": 0,
            "status": "in_progress",
            "percent": 40,
            "done_text": "已完成调研。",
            "problems_text": "",
            "evidence": pdf(),
            "save": "",
        }
    if name == "contribution-edit":
        return {
            "version": world.contribution.version,
            "text": "协会又组织了一场培训。",
            "figures": "180人次",
            "files": pdf("第二场.pdf"),
        }
    if name == "offline-upload":
        return {"file": SimpleUploadedFile("2014年第四季度进展填报表.xlsx", world.offline_file)}
    if name == "report-review":
        return {"version": world.report.version, "comment": "", "approve": ""}
    if name == "instruction-new":
        return {"text": "请抓紧推进。", "due_on": "2099-01-01"}
    if name == "instruction-answer":
        return {"text": "已办理。", "files": pdf("办理情况.pdf")}
    if name == "urging-new":
        return {
            "message": "请报送。",
            "reply_by": "2099-01-01",
            "milestones": [world.unreported.pk],
        }
    if name == "urging-reply":
        return {"text": "已报送。"}
    if name == "notice-settings":
        return {"kinds": ["urging"]}
    if name in ("report-withdraw", "evidence-remove"):
        return {"version": world.report.version}
    if name == "contribution-file-remove":
        return {"version": world.contribution.version}
    if name == "login":
        return {"username": "zhang", "password": PASSWORD}
    if name == "password_change":
        return {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        }
    if name == "set_language":
        return {"language": "zh-hans", "next": "/"}
    return {}


def client_for(world: World, persona: str, **kwargs) -> Client:
    client = Client(**kwargs)
    if persona != "anonymous":
        client.force_login(fresh(world.users[persona]))
    return client


def fresh(user):
    """The user as stored now (logging in changes last_login on the object it is given)."""
    return type(user).objects.get(pk=user.pk)


def outcome(response) -> object:
    """The status, or "302→<url name>" for a redirect to one of our pages."""
    if response.status_code not in (301, 302):
        return response.status_code
    path = urlsplit(response["Location"]).path
    try:
        return f"302→{resolve(path).view_name}"
    except Resolver404:
        return f"302→{path}"


def stored(world: World) -> dict:
    """What no refused request may change: reports, their history and files, the cooperating
    units' contributions, and the files on disk."""
    return {
        "reports": list(
            ProgressReport.objects.order_by("pk").values_list(
                "pk", "version", "state", "status", "percent", "done_text"
            )
        ),
        "versions": ReportVersion.objects.count(),
        "evidence": list(Evidence.objects.order_by("pk").values_list("pk", "file")),
        "contributions": list(
            Contribution.objects.order_by("pk").values_list("pk", "version", "text")
        ),
        "contribution_files": ContributionFile.objects.count(),
        "files_on_disk": sorted(str(p) for p in world.media.rglob("*") if p.is_file()),
        "instructions": Instruction.objects.count(),
        "acknowledgements": Acknowledgement.objects.count(),
        "answers": InstructionAnswer.objects.count(),
        "urgings": list(Urging.objects.order_by("pk").values_list("pk", "replied_at")),
    }


def request(client: Client, method: str, url: str, data: dict):
    if method == "GET":
        return client.get(url)
    return client.post(url, data)


# --- The matrix -------------------------------------------------------------------------


CASES = [
    pytest.param(name, persona, method, id=f"{name}-{persona}-{method}")
    for name in EXPECTED
    if name != ADMIN_ROW
    for persona in PERSONAS
    for method in METHODS
]


@pytest.mark.parametrize(("name", "persona", "method"), CASES)
def test_matrix(world, db, name, persona, method):
    expected = EXPECTED[name][persona][method]
    client = client_for(world, persona)
    url = url_of(name, world)
    before = stored(world)

    response = request(client, method, url, post_data(name, world, persona))

    assert outcome(response) == expected, response.content[:500].decode(errors="replace")
    after = stored(world)
    if method == "POST" and (name, persona) in WRITES:
        assert after != before, "the permitted write did not happen"
    else:
        assert after == before, "a request that is not a permitted write changed data"
    if name in ("evidence-download", "contribution-file", "answer-file") and expected == 200:
        assert b"".join(response.streaming_content) == PDF


def admin_url(name: str, world: World) -> str:
    """The URL of an admin page, for an object of its model where it needs one."""
    if name == "admin:app_list":
        return reverse(name, kwargs={"app_label": "tasks"})
    if name == "admin:view_on_site":
        content_type = ContentType.objects.get_for_model(ProgressReport)
        return reverse(name, args=[content_type.pk, world.report.pk])
    pattern = next(p for _ns, n, p in url_patterns() if n == name)
    needs = set(pattern.pattern.converters)
    if not needs:
        return reverse(name)
    for model in admin.site._registry:
        if name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"):
            obj = model._default_manager.order_by("pk").first()
            (argument,) = needs
            return reverse(name, kwargs={argument: obj.pk if obj else 0})
    raise AssertionError(f"no model for {name}")


ADMIN_CASES = [
    pytest.param(persona, method, id=f"{ADMIN_ROW}-{persona}-{method}")
    for persona in PERSONAS
    for method in METHODS
]


@pytest.mark.parametrize(("persona", "method"), ADMIN_CASES)
def test_admin_row(world, db, persona, method):
    """Every admin and import-export admin URL: only admin_user gets in."""
    expected = EXPECTED[ADMIN_ROW][persona][method]
    client = client_for(world, persona)
    before = stored(world)
    wrong = {}
    for name in admin_names():
        if name in ADMIN_GATES:
            continue
        url = admin_url(name, world)
        if expected == ADMITTED:
            upload = name.endswith("_import") and not name.endswith(CONFIRM)
            if method == "POST" and not upload:
                continue  # an admin's POSTs change things; the upload form is enough
            got = outcome(request(client, method, url, {}))
            must_see = upload or (
                method == "GET"
                and not name.endswith(CONFIRM)
                and (name in ("admin:index", "admin:app_list") or name.endswith(ADMIN_MUST_SEE))
            )
            if got not in ({200} if must_see else ADMITTED_OUTCOMES):
                wrong[name] = got
        else:
            got = outcome(request(client, method, url, {}))
            allowed = {LOGIN, ADMIN_LOGIN} if persona == "anonymous" else {expected}
            if got not in allowed:
                wrong[name] = got
    assert wrong == {}
    assert stored(world) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_admin_login_page_is_the_gate(world, db, persona):
    response = client_for(world, persona).get(reverse("admin:login"))
    admins = ("admin_user", "admin_group")
    assert outcome(response) == ("302→admin:index" if persona in admins else 200)


# --- CSRF and the files on disk ---------------------------------------------------------


def refused(persona: str, result) -> bool:
    return result in ((403, 405, LOGIN) if persona == "anonymous" else (403, 405))


#: Each URL that takes a POST from someone, with the first persona whose POST gets through.
POSTING = sorted(
    {
        name: next(p for p in PERSONAS if not refused(p, cells[p]["POST"]))
        for name, cells in EXPECTED.items()
        if name != ADMIN_ROW and any(not refused(p, cells[p]["POST"]) for p in PERSONAS)
    }.items()
)


@pytest.mark.parametrize(("name", "persona"), [pytest.param(*p, id="-".join(p)) for p in POSTING])
def test_a_post_without_csrf_token_is_refused(world, db, name, persona):
    client = client_for(world, persona, enforce_csrf_checks=True)
    before = stored(world)
    response = client.post(url_of(name, world), post_data(name, world, persona))
    assert response.status_code == 403
    assert stored(world) == before


def test_the_same_post_with_the_token_succeeds(world, db):
    """The CSRF check above refuses for want of the token, not for anything else."""
    client = client_for(world, "staff", enforce_csrf_checks=True)
    url = url_of("report-edit", world)
    assert client.get(url).status_code == 200
    data = post_data("report-edit", world, "staff")
    data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    response = client.post(url, data)
    assert outcome(response) == "302→my-work"


@pytest.mark.parametrize("persona", PERSONAS)
def test_evidence_files_are_not_served_from_media(world, db, persona):
    """Only the permission-checking views serve stored files: not /media/…, nor the storage's
    own URL."""
    client = client_for(world, persona)
    for item in (world.evidence, world.contribution_file):
        assert (world.media / item.file.name).is_file()
        for path in (f"/media/{item.file.name}", item.file.url, f"/{item.file.name}"):
            assert client.get(path).status_code == 404, path


def test_the_stored_file_name_does_not_reveal_the_upload_name(world, db):
    name = Path(world.evidence.file.name).name
    assert world.evidence.name not in name
    assert len(Path(name).stem) == 32  # a random uuid hex


def public_cell(content: str, report: ProgressReport) -> str:
    """The public page's cell of `report`'s milestone and quarter, as shown."""
    row = re.search(
        rf'<tr class="public-row" data-milestone="{report.milestone_id}">(.*?)</tr>', content, re.S
    )
    assert row, f"no row for milestone {report.milestone_id}"
    cells = re.findall(r'<td class="cell[^"]*"[^>]*>(.*?)</td>', row[1], re.S)
    return cells[report.quarter - 1].strip()


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_public_page_shows_approved_progress_and_nothing_unapproved(world, db, persona):
    """The approved report's status and percent are shown; the submitted report and the
    draft (their status, percent and texts), the evidence and who wrote them stay private."""
    response = client_for(world, persona).get(url_of("public-plan", world))
    assert response.status_code == 200
    text = response.content.decode()
    assert public_cell(text, world.approved) == "进行中 77%"
    for unapproved in (world.report, world.draft):
        assert public_cell(text, unapproved) == "—", unapproved.state
        assert f"{unapproved.percent}%" not in text, unapproved.state
    for private in (
        world.report.done_text,
        world.evidence.name,
        world.contribution.text,
        reverse("evidence-download", args=[world.evidence.pk]),
        world.users["staff"].username,  # zhang: who submitted it
        world.users["unit"].username,
        'class="usermenu"',
    ):
        assert private not in text, private
    assert not response.cookies, "the public page sets no cookie"
