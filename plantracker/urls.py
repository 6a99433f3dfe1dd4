from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico on their own: send them to the static file."""

    permanent = False
    http_method_names = ["get", "head"]

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.ico")


urlpatterns = [
    path("", include("plan.urls")),
    path("", include("tasks.urls")),
    path("", include("supervision.urls")),
    # Log in, log out and change one's password. No self-service password reset by email:
    # accounts belong to a bureau's staff, and an admin resets a forgotten password.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("favicon.ico", login_not_required(FaviconView.as_view()), name="favicon"),
    path("admin/", admin.site.urls),
]
