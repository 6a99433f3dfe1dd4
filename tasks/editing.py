"""The edit pages' shared form handling (the office's report, the unit's contribution): a
POST is checked by the form, saved by a service, and on any refusal the page comes back
with what was typed, the newer version where the save was stale, and the chosen files held
server-side for the next submit (tasks.held: a file cannot be put back into a browser's file
field); a file the form refused says why beside the field."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from . import held, services
from .forms import STALE_FORM, VersionForm

#: Cookie naming the page whose draft the browser may forget (static/js/drafts.js).
SAVED_DRAFT_COOKIE = "pt_draft_saved"


def draft_page(request: HttpRequest, path: str | None = None) -> str:
    """What the browser keys a kept draft by, besides the version: user and page (the page
    the form is shown on, `path`, when it posts elsewhere)."""
    return f"{request.user.pk}:{path or request.path}"


def session_seconds(request: HttpRequest) -> int:
    """Seconds until the user's login ends (plantracker.sessions knows; any other engine
    says its full age)."""
    left = getattr(request.session, "seconds_left", None)
    return left() if left else request.session.get_expiry_age()


def saved(request: HttpRequest, message: str, url: str, page: str | None = None) -> HttpResponse:
    """After a successful save: say so, and tell the browser to forget its copy of the page's
    form (`page`: the form's page when it posted elsewhere)."""
    messages.success(request, message)
    response = HttpResponseRedirect(url)  # a URL already: no name to try reversing first
    response.set_cookie(
        SAVED_DRAFT_COOKIE, quote(draft_page(request, page)), max_age=300, samesite="Lax"
    )
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form posted with an outdated token (the user logged in again in
    another tab, or the page was open for long). Nothing was saved; the text is kept in the
    browser (static/js/drafts.js) and offered back on the form's page."""
    back = request.META.get("HTTP_REFERER", "")
    if not back or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = request.path if request.method == "GET" else reverse("home")
    login = request.path == reverse("login")  # two login tabs: nothing typed to keep
    context = {"back": reverse("login") if login else back, "login": login}
    return render(request, "csrf_failure.html", context, status=403)


def version_action(request: HttpRequest, act, done: str, stale_message, back: str):
    """A button that acts on one version of a report or contribution (撤回, 删除附件):
    `act(base_version)` is the service call; a message either way (`stale_message(newer)`
    when the version is no longer the latest), then back to the edit page `back`."""
    form = VersionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(STALE_FORM)
        act(form.cleaned_data["version"])
    except services.StaleEdit as stale:
        messages.error(request, stale_message(stale.report))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect(back)


def add_error(form, error: ValidationError) -> None:
    """A service's refusal on the form; a field the form lacks becomes a form-wide error."""
    if hasattr(error, "error_dict"):
        for name, problems in error.error_dict.items():
            form.add_error(name if name in form.fields else None, problems)
    else:
        form.add_error(None, error)


@dataclass
class Edit:
    """One edit page: the form, how it is filled and saved, and what the page shows."""

    form_class: type
    files_field: str
    template: str
    initial: dict
    save: Callable  # (cleaned data) -> response; raises StaleEdit or ValidationError
    stale_message: Callable  # (newer object) -> str
    context: Callable  # (newer object or None) -> dict

    def run(self, request: HttpRequest, *, post: bool) -> HttpResponse:
        newer, page = None, draft_page(request)
        kept = held.kept(request, page) if post else []
        if post:
            form = self.form_class(request.POST, request.FILES)
            valid = form.is_valid()
            chosen = [] if self.files_field in form.errors else form.cleaned_data[self.files_field]
            if valid:
                try:
                    data = {**form.cleaned_data, self.files_field: [*chosen, *held.files(kept)]}
                    response = self.save(data)
                    held.release(request, kept)  # uploaded now
                    return response
                except services.StaleEdit as stale:
                    newer = stale.report
                    messages.error(request, self.stale_message(newer))
                    form = self.form_class({**request.POST.dict(), "version": newer.version})
                    form.is_valid()
                except ValidationError as error:
                    add_error(form, error)
            kept = [*kept, *held.hold(request, page, chosen)]
        else:
            form = self.form_class(initial=self.initial)
        context = {**self.context(newer), "form": form, "newer": newer, "held": kept}
        context.update(draft_page=page, session_seconds=session_seconds(request))
        return render(request, self.template, context)
