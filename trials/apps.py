from django.apps import AppConfig


class TrialsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "trials"

    def ready(self):
        # The pure core's messages (eligibility.wording) are worded when shown, in the request's language.
        from django.utils.translation import gettext, ngettext

        from eligibility import wording

        wording.install(gettext, ngettext)
