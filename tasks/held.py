"""Files chosen with a form that came back refused (a missing 完成情况, a stale save …) are
held server-side for the form's next submit, so that nobody has to choose them again: a
browser cannot put a file back into a file field.

A held file has passed the form's checks (type, size, content). It is stored under
held/ with a random name and listed in the user's session with the page it belongs to; the
form carries its token. The next successful save uploads it as if it had been chosen then,
and it is deleted from held/. Held files nobody came back for are deleted after a day."""

import datetime
import uuid
from pathlib import PurePath

from django.core.files import File
from django.core.files.storage import default_storage
from django.http import HttpRequest
from django.utils import timezone

SESSION_KEY = "held_uploads"
FOLDER = "held"
KEEP_FOR = datetime.timedelta(days=1)


def _entries(request: HttpRequest) -> dict:
    return request.session.get(SESSION_KEY, {})


def kept(request: HttpRequest, page: str) -> list[dict]:
    """The held files a POST of `page` still wants (its tokens, less those ticked 不要了);
    the ones let go are deleted."""
    entries = _entries(request)
    dropped = set(request.POST.getlist("drop_held"))
    wanted = [entries[t] for t in request.POST.getlist("held") if t in entries]
    wanted = [entry for entry in wanted if entry["page"] == page]
    release(request, [entry for entry in wanted if entry["token"] in dropped])
    return [entry for entry in wanted if entry["token"] not in dropped]


def hold(request: HttpRequest, page: str, uploads) -> list[dict]:
    """Stores checked uploads for the next submit of `page`."""
    _forget_old()
    entries = dict(_entries(request))
    held = []
    for upload in uploads:
        token = uuid.uuid4().hex
        suffix = PurePath(upload.name).suffix.lower()[:10]
        upload.seek(0)
        path = default_storage.save(f"{FOLDER}/{token}{suffix}", upload)
        entry = {"token": token, "path": path, "name": upload.name, "size": upload.size}
        entries[token] = {**entry, "page": page}
        held.append(entries[token])
    if held:
        request.session[SESSION_KEY] = entries
    return held


def files(entries: list[dict]) -> list[File]:
    """The held files as uploads for the services (original name and size)."""
    opened = []
    for entry in entries:
        stored = default_storage.open(entry["path"], "rb")
        upload = File(stored.file if hasattr(stored, "file") else stored, name=entry["name"])
        upload.size = entry["size"]
        opened.append(upload)
    return opened


def release(request: HttpRequest, entries: list[dict]) -> None:
    """Deletes held files (uploaded now, or no longer wanted)."""
    if not entries:
        return
    remaining = dict(_entries(request))
    for entry in entries:
        remaining.pop(entry["token"], None)
        default_storage.delete(entry["path"])
    request.session[SESSION_KEY] = remaining


def _forget_old() -> None:
    """Deletes held files older than KEEP_FOR (their sessions ended, or nobody came back)."""
    try:
        _folders, names = default_storage.listdir(FOLDER)
    except (FileNotFoundError, NotImplementedError):
        return
    cutoff = timezone.now() - KEEP_FOR
    for name in names:
        path = f"{FOLDER}/{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except (FileNotFoundError, NotImplementedError):
            continue
