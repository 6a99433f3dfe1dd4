"""The app's clock: every "today" and "now" of the app's rules is read here, never from
timezone.localdate()/now() directly, so a demo can run on a date in its plan's year.

- settings.DEMO_DATE (env PLANTRACKER_DEMO_DATE, "YYYY-MM-DD"): today is that date, and now is
  that date at the current time of day. Only with DEBUG on: refused otherwise.
- travel(moment): a context manager that sets the clock to `moment` while sample data is
  written (tasks' load_demo command), so its reports carry dates in the plan's year.
"""

import contextlib
import contextvars
import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

_travelling: contextvars.ContextVar[datetime.datetime | None] = contextvars.ContextVar(
    "plantracker_clock", default=None
)


def demo_date() -> datetime.date | None:
    """The demo date of the settings, or None. Refused when DEBUG is off or not a date."""
    value = getattr(settings, "DEMO_DATE", None)
    if not value:
        return None
    if not settings.DEBUG:
        raise ImproperlyConfigured("DEMO_DATE is refused when DEBUG is off (DJANGO_DEBUG)")
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ImproperlyConfigured(f"DEMO_DATE must be YYYY-MM-DD, not {value!r}") from None


def now() -> datetime.datetime:
    """The current moment (aware), as the app's rules see it."""
    moment = _travelling.get()
    if moment is not None:
        return moment
    real = timezone.now()
    date = demo_date()
    if date is None:
        return real
    local = timezone.localtime(real)
    return local.replace(year=date.year, month=date.month, day=date.day)


def today() -> datetime.date:
    """Today's date in the app's time zone (Asia/Shanghai), as the app's rules see it."""
    moment = _travelling.get()
    if moment is not None:
        return timezone.localtime(moment).date()
    return demo_date() or timezone.localdate()


@contextlib.contextmanager
def travel(moment: datetime.datetime):
    """Sets the clock to `moment` (aware) inside the block."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    token = _travelling.set(moment)
    try:
        yield
    finally:
        _travelling.reset(token)


def today_or(date: str | None) -> datetime.date:
    """A command's --date (YYYY-MM-DD: "pretend today is this date"), else today."""
    if not date:
        return today()
    try:
        return datetime.date.fromisoformat(date)
    except ValueError:
        from django.core.management.base import CommandError

        raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}") from None
