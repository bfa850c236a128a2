from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening"
    verbose_name = _("Screening")

    def ready(self):
        from . import signals  # noqa: F401  (re-screens when a trial's criteria change)
