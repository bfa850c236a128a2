from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CtgovConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ctgov"
    verbose_name = _("ClinicalTrials.gov import")
