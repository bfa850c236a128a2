from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrialsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "trials"
    verbose_name = _("Trials")

    def ready(self):
        # The pure core's messages (eligibility.wording) are worded when shown, in the request's language.
        from django.utils.translation import gettext, ngettext

        from eligibility import wording

        wording.install(gettext, ngettext)
