from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CurationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "curation"
    verbose_name = _("Curation")

    def ready(self):
        # trials bumps a trial's criteria_version; this app keeps what the criteria were at each version.
        from . import signals  # noqa: F401
