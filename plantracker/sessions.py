"""The database session engine, remembering when the loaded session expires.

Django's db engine reads the session's expire_date with the session and drops it; the edit
pages need it to announce a login about to end (static/js/drafts.js), which
get_expiry_age() cannot say: a session expires SESSION_COOKIE_AGE after it was last saved,
not after the page was loaded. No extra query."""

from django.contrib.sessions.backends import db
from django.utils import timezone


class SessionStore(db.SessionStore):
    loaded_expiry = None

    def _get_session_from_db(self):
        session = super()._get_session_from_db()
        if session is not None:
            self.loaded_expiry = session.expire_date
        return session

    def seconds_left(self) -> int:
        """Seconds until this session ends, as stored now (the full age for a new one)."""
        fresh = self.modified or self.get("_session_expiry") is not None
        if not fresh and self.loaded_expiry is not None:
            return max(0, int((self.loaded_expiry - timezone.now()).total_seconds()))
        return self.get_expiry_age()
