from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

admin.site.site_header = "Prescreen administration"
admin.site.site_title = "Prescreen admin"
admin.site.index_title = "Trials, criteria and questions"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("trials/", include("trials.urls")),
    path("screenings/", include("screening.urls")),
    path("candidates/", include("screening.candidate_urls")),
    path("api/v1/", include(("screening.api_urls", "api"), namespace="api")),
    path("admin/", admin.site.urls),
]
