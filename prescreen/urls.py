from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

import referrals.urls
import screening.urls
from ctgov.admin import import_urls

from . import sessions, views

admin.site.site_header = _("Prescreen administration")
admin.site.site_title = _("Prescreen admin")
admin.site.index_title = _("Trials, criteria and questions")


def admin_urls():
    """The admin, plus the import pages (ctgov) under the trial list (curation's): the project puts them together,
    so neither app imports the other. First, so that "import/" is not taken for a trial's id."""
    patterns, app_name, namespace = admin.site.urls
    return [*import_urls(), *patterns], app_name, namespace


handler403 = "prescreen.views.permission_denied"
handler500 = "prescreen.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Changing one's password keeps this session (update_session_auth_hash) and ends every other one.
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/change_password.html", success_url=reverse_lazy("password_change_done")
        ),
        name="password_change",
    ),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/change_password_done.html"),
        name="password_change_done",
    ),
    # The navbar's language switcher (POST); on the login page too, before anyone has signed in.
    path("language/", login_not_required(set_language), name="set_language"),
    path("account/session/", sessions.session_status, name="session_status"),
    path("trials/", include("trials.urls")),
    # The screening pages and the clinician's "Refer to coordinator" page share /screenings/ and the
    # `screening:` namespace; the referral page belongs to the referrals app, which screening may not import.
    path("screenings/", include((screening.urls.urlpatterns + referrals.urls.screening_urlpatterns, "screening"))),
    path("candidates/", include("referrals.urls")),
    path("api/v1/", include(("screening.api_urls", "api"), namespace="api")),
    path("admin/", admin_urls()),
]
