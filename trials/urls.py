from django.urls import path

from . import (
    converters,  # noqa: F401  (registers <nct:...>)
    views,
)

app_name = "trials"
urlpatterns = [
    path("", views.trial_list, name="list"),
    path("<nct:nct_id>/", views.trial_detail, name="detail"),
]
