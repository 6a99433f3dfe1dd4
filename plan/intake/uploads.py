"""An uploaded plan file kept between the preview and the confirmation, under a random token
the uploader's session holds: nobody else can confirm it, and nothing is written to the
plan until they do."""

import secrets
import time
from pathlib import Path

from django.conf import settings

SESSION_KEY = "plan_intake_uploads"
MAX_KEPT = 5  # per session; older ones are removed
MAX_AGE = 24 * 3600  # an upload nobody confirmed within a day is removed


def folder() -> Path:
    path = Path(settings.MEDIA_ROOT) / "plan_intake"
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep(request, data: bytes, name: str) -> str:
    now = time.time()
    for old in folder().iterdir():  # uploads abandoned in a preview
        if old.is_file() and now - old.stat().st_mtime > MAX_AGE:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    (folder() / token).write_bytes(data)
    kept = request.session.get(SESSION_KEY, {})
    kept[token] = name[:200]
    for old in list(kept)[:-MAX_KEPT]:
        forget(request, old, kept)
    request.session[SESSION_KEY] = kept
    return token


def fetch(request, token: str) -> tuple[bytes, str] | None:
    kept = request.session.get(SESSION_KEY, {})
    if not (isinstance(token, str) and len(token) == 32 and token in kept):
        return None
    path = folder() / token
    if not path.is_file():
        return None
    return path.read_bytes(), kept[token]


def forget(request, token: str, kept: dict | None = None) -> None:
    kept = kept if kept is not None else request.session.get(SESSION_KEY, {})
    kept.pop(token, None)
    (folder() / token).unlink(missing_ok=True)
    request.session[SESSION_KEY] = kept
