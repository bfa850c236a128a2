from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening"

    def ready(self):
        from . import signals  # noqa: F401  (re-screens when a trial's criteria change)
