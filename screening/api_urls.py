from django.urls import path

from . import api

app_name = "api"
urlpatterns = [
    path("screen", api.screen, name="screen"),
    path("openapi.json", api.schema, name="schema"),
]
