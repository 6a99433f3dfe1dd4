"""Every page shape, as each role that sees it, on a phone (390 × 844) and on a desktop
(1366 × 900): no sideways scroll of the page, zero axe-core WCAG 2.1 AA violations, and on the
phone tap targets of at least 24 × 24 px (WCAG 2.5.8) and text of at least 14 px."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from departments import roles
from departments.models import Department

from . import builders
from .conftest import PASSWORD, make_user
from .test_browser_plan import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def model(name: str):
    """A model by class name, wherever its app keeps it."""
    return next(m for m in apps.get_models() if m.__name__ == name)


def admin_url(name: str, view: str, *args) -> str:
    meta = model(name)._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


# Tap targets: links and buttons of the main content (and the header's menu button) smaller
# than 24 × 24 px. A link inside a sentence is excepted (WCAG 2.5.8 "Inline").
SMALL_TARGETS = """() => {
  const targets = document.querySelectorAll(
    'main a[href], main button, main input[type=submit], main input[type=button], main summary,'
    + ' header summary, header a[href], header button');
  const small = [];
  for (const t of targets) {
    const r = t.getBoundingClientRect();
    const style = getComputedStyle(t);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
    if (t.closest('.visually-hidden')) continue;
    if (r.width >= 24 && r.height >= 24) continue;
    if (t.tagName === 'A' && style.display === 'inline') {
      let block = t.parentElement;
      while (block && getComputedStyle(block).display === 'inline') block = block.parentElement;
      const own = (t.innerText || '').trim().length;
      const around = (block.innerText || '').replace(/\\s+/g, '').length;
      if (around - own >= 4) continue;  // in a sentence
    }
    small.push(`${t.tagName.toLowerCase()} "${(t.innerText || t.value || '').trim().slice(0, 30)}"`
      + ` ${Math.round(r.width)}×${Math.round(r.height)}`);
  }
  return small;
}"""

# Text smaller than 14 px as rendered: an SVG's text is scaled by the SVG's width / viewBox.
SMALL_TEXT = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const small = new Map();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest('script, style, option, title, noscript')) continue;
    if (el.closest('.visually-hidden')) continue;
    const rects = el.getClientRects();
    if (!rects.length || getComputedStyle(el).visibility === 'hidden') continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    const svg = el.closest('svg');
    if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) {
      size *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    }
    if (size < 13.95) small.set(`"${text.slice(0, 24)}" ${size.toFixed(1)}px`, true);
  }
  return [...small.keys()].slice(0, 12);
}"""


# ARIA references to ids that are not on the page (axe only reviews some of them).
MISSING_IDS = """() => {
  const missing = [];
  const referring = '[aria-describedby], [aria-labelledby], [aria-controls]';
  for (const el of document.querySelectorAll(referring)) {
    for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls']) {
      for (const id of (el.getAttribute(attr) || '').split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) missing.push(`${el.tagName.toLowerCase()} ${attr}=${id}`);
      }
    }
  }
  return missing;
}"""


def check(page, url: str, shot: str, problems: list[str]) -> None:
    """Visit `url` at both widths and add what is wrong to `problems`."""
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        page.goto(url)
        page.wait_for_load_state()
        where = f"{shot} ({name})"
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if widths[0] > widths[1]:
            problems.append(f"{where}: page is {widths[0]} px wide in {widths[1]} px")
        for reference in page.evaluate(MISSING_IDS):
            problems.append(f"{where}: refers to a missing id: {reference}")
        results = Axe().run(
            page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": []}
        )
        for violation in results.response["violations"]:
            nodes = [" ".join(n["target"]) for n in violation["nodes"][:3]]
            problems.append(
                f"{where}: axe {violation['id']} ({len(violation['nodes'])}×) e.g. {nodes}"
            )
        if name == "phone":
            for target in page.evaluate(SMALL_TARGETS):
                problems.append(f"{where}: tap target under 24 px: {target}")
            for text in page.evaluate(SMALL_TEXT):
                problems.append(f"{where}: text under 14 px: {text}")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"phone_{shot}.png", full_page=True)
        else:
            page.screenshot(path=ARTIFACTS / f"desktop_{shot}.png")


def context_for(browser, live_server, username: str | None):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    if username:
        page.goto(live_server.url + reverse("login"))
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_load_state()
    return page


@pytest.fixture
def shaped(plan_2014, staff, reviewer, leader, admin_user):
    """The 2014 plan with a year of reports in every state, a cooperating unit and its
    contribution, published."""
    district = Department.objects.get(name="各区县(自治县)知识产权局")
    make_user("quxian", roles.UNIT, district)
    milestone = model("Milestone")
    for quarter in (2, 4):
        for index, m in enumerate(
            milestone.objects.scheduled_in(quarter)
            .exclude(measure__number__in=[3, 7, 8])
            .order_by("measure__number", "order")[:16]
        ):
            kind = index % 5
            builders.report(
                m,
                quarter,
                reviewer=reviewer,
                percent=[100, 60, 20, 40, 70][kind],
                status=["done", "in_progress", "behind", "in_progress", "in_progress"][kind],
                state=["approved", "approved", "approved", "returned", "submitted"][kind],
                text="已完成年度工作要点的起草和征求意见,正在根据各处室意见修改完善。",
            )
    plan_2014.published = True
    plan_2014.save()
    own = milestone.objects.get(measure__number=7, label="第四季度")
    shown = builders.report(own, 4, reviewer=reviewer, percent=80, state="approved")
    return {
        "plan": plan_2014,
        "report": shown,
        "own": milestone.objects.get(measure__number=8, label="第四季度"),
        "unit_milestone": milestone.objects.get(measure__number=3, order=3),
    }


def pages_for(shaped, role: str) -> list[tuple[str, str]]:
    plan = shaped["plan"]
    measure = shaped["own"].measure
    if role == "anonymous":
        return [
            ("login", reverse("login")),
            ("public_index", reverse("public-index")),
            ("public_plan", reverse("public-plan", args=[plan.pk])),
        ]
    if role == "zhang":
        return [
            ("my_work", reverse("my-work")),
            ("plan_document", reverse("plan-document", args=[plan.pk])),
            ("report_form", reverse("report-edit", args=[shaped["own"].pk, 4])),
            ("report_detail", reverse("report-detail", args=[shaped["report"].pk])),
            ("offline_upload", reverse("offline-upload")),
            ("password_change", reverse("password_change")),
            ("password_change_done", reverse("password_change_done")),
            ("forbidden", reverse("review-queue")),
            ("not_found", reverse("plan-document", args=[99999])),
        ]
    if role == "wang":
        return [
            ("review_queue", reverse("review-queue")),
            ("report_review", reverse("report-detail", args=[shaped["report"].pk])),
        ]
    if role == "zhao":
        return [
            ("dashboard", reverse("dashboard")),
            ("dashboard_filtered", reverse("dashboard") + "?quarter=2&status=behind"),
            ("dashboard_measure", reverse("dashboard-measure", args=[measure.pk])),
            ("dashboard_changes", reverse("dashboard-changes") + f"?plan={plan.pk}&to=4"),
        ]
    if role == "quxian":
        return [
            ("unit_work", reverse("unit-work")),
            (
                "contribution_form",
                reverse("contribution-edit", args=[shaped["unit_milestone"].pk, 4]),
            ),
        ]
    assert role == "admin1"
    return [
        ("admin_index", reverse("admin:index")),
        ("admin_milestones", admin_url("Milestone", "changelist")),
        ("admin_milestone", admin_url("Milestone", "change", shaped["own"].pk)),
        ("admin_plans", admin_url("Plan", "changelist")),
        ("admin_reports", admin_url("ProgressReport", "changelist")),
        ("admin_import", admin_url("ProgressReport", "import")),
    ]


@pytest.mark.parametrize("role", ["anonymous", "zhang", "wang", "zhao", "quxian", "admin1"])
def test_every_page_fits_a_phone_and_passes_axe(browser, live_server, shaped, role):
    assert model("Plan") in admin.site._registry
    page = context_for(browser, live_server, None if role == "anonymous" else role)
    problems: list[str] = []
    for shot, path in pages_for(shaped, role):
        check(page, live_server.url + path, shot, problems)
    # English words are longer than Chinese ones: the first pages again in English.
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    for shot, path in pages_for(shaped, role)[:2]:
        check(page, live_server.url + path, f"{shot}_en", problems)
    page.context.close()
    assert not problems, "\n".join(problems)


def test_the_phone_header_is_one_bar_with_a_menu(browser, live_server, shaped):
    page = context_for(browser, live_server, "zhao")
    page.goto(live_server.url + reverse("dashboard"))
    assert page.locator("header.topbar").bounding_box()["height"] <= 56
    # tests/artifacts/dashboard_phone.png and dashboard_desktop.png: looked at, and copied to
    # docs/screenshots/ for the README by hand when the page changes.
    page.screenshot(path=ARTIFACTS / "dashboard_phone.png")
    nav = page.get_by_role("navigation", name="主导航")
    assert not nav.is_visible()
    page.locator("header.topbar summary").click()
    assert nav.is_visible()
    page.screenshot(path=ARTIFACTS / "phone_menu_open.png")
    nav.get_by_role("link", name="推进计划", exact=True).click()
    assert page.locator("h1").inner_text() == shaped["plan"].title
    assert not nav.is_visible()  # a new page starts with the menu folded
    page.set_viewport_size(DESKTOP)
    assert nav.is_visible()
    assert not page.locator("header.topbar summary").is_visible()
    assert page.get_by_role("button", name="退出").is_visible()
    page.set_viewport_size({"width": 1440, "height": 1100})
    page.goto(live_server.url + reverse("dashboard"))
    page.screenshot(path=ARTIFACTS / "dashboard_desktop.png")


def test_the_favicon_is_served_and_linked_from_every_base_template(browser, live_server, shaped):
    page = context_for(browser, live_server, "admin1")
    icon = page.request.get(live_server.url + "/favicon.ico")
    assert icon.ok
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    for path in (reverse("dashboard"), reverse("admin:index"), reverse("public-index")):
        page.goto(live_server.url + path)
        hrefs = page.eval_on_selector_all("link[rel=icon]", "links => links.map(l => l.href)")
        assert len(hrefs) == 2, path
        for href in hrefs:
            assert page.request.get(href).ok, href
