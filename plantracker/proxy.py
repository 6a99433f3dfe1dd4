"""The client's address and scheme, and the login throttle per address.

Behind nginx (DJANGO_BEHIND_PROXY) the client's address is the one nginx forwards, and the
scheme the one its X-Forwarded-Proto says, but only when the request really comes from nginx:
from an address in DJANGO_TRUSTED_PROXIES (default the loopback addresses). A request from
anywhere else (gunicorn reached directly) is its own client, on plain HTTP, whatever
X-Real-IP, X-Forwarded-For or X-Forwarded-Proto it carries."""

import datetime
import ipaddress

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone


def trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    """The socket's address; behind a trusted proxy, nginx's X-Real-IP, else the last
    X-Forwarded-For address that is not a trusted proxy (nginx appends the real one)."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not (settings.BEHIND_PROXY and trusted_proxy(remote)):
        return remote
    real = request.META.get("HTTP_X_REAL_IP", "").strip()
    if real and valid(real):
        return real
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed(forwarded):
        if valid(address) and not trusted_proxy(address):
            return address
    return remote


def valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


class ForwardedProtoMiddleware:
    """Drops X-Forwarded-Proto from a request that does not come from a trusted proxy, before
    SecurityMiddleware reads it (SECURE_PROXY_SSL_HEADER): such a request cannot claim HTTPS
    to skip the redirect or to pass for secure."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        meta = request.META
        if "HTTP_X_FORWARDED_PROTO" in meta and not trusted_proxy(meta.get("REMOTE_ADDR", "")):
            del meta["HTTP_X_FORWARDED_PROTO"]
        return self.get_response(request)


def failures_from(address: str) -> int:
    """Failed logins from an address, over every username, within the cool-off time
    (django-axes keeps one row per username and address)."""
    from axes.models import AccessAttempt

    since = timezone.now() - datetime.timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES)
    attempts = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginThrottleMiddleware:
    """Refuses a login POST from an address with too many failed logins over all usernames
    (password spraying), before any password is hashed; django-axes then limits each
    username and address pair. Answers 429 with the lockout page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path in login_paths():
            address = client_ip(request)
            if address and failures_from(address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
                return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
        return self.get_response(request)


def login_paths() -> set[str]:
    return {reverse("login"), reverse("admin:login")}
