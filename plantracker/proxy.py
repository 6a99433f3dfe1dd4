"""The client's address for login throttling."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Behind nginx (DJANGO_BEHIND_PROXY), the address nginx puts in X-Real-IP, which a
    client cannot forge since nginx overwrites it; otherwise the socket's address."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_REAL_IP", "").strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")
