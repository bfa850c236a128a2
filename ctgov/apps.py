from django.apps import AppConfig


class CtgovConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ctgov"
    verbose_name = "ClinicalTrials.gov import"
