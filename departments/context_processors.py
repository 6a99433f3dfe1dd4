from .roles import page_permissions


def roles(request):
    """`may.work`, `may.review`, `may.dashboard` …: templates ask these, never the roles."""
    return {"may": page_permissions(request.user)}
