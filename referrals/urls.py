from django.urls import path

from trials import converters  # noqa: F401  (registers <nct:...>)

from . import views

app_name = "candidates"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("export.csv", views.queue_csv, name="csv"),
    path("<int:pk>/", views.detail, name="detail"),
    path("analytics/<nct:nct_id>/", views.analytics, name="analytics"),
    path("<int:pk>/status/", views.change_status, name="status"),
    path("<int:pk>/verify/<int:criterion_id>/", views.verify, name="verify"),
]

# Referring is an action on the clinician's screening: prescreen/urls.py mounts these beside the
# screening pages, under /screenings/ and in their namespace (`screening:refer`), because the
# screening app must not import this one.
screening_urlpatterns = [
    path("<int:pk>/refer/<nct:nct_id>/", views.refer, name="refer"),
]
