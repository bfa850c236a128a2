"""The admin's import pages: upload ClinicalTrials.gov records, follow an import, look through every import.

The upload page and an import's page sit under the trial list, where curators find them (/admin/trials/trial/
import/), though the trial admin is curation's: `import_urls()` gives them to prescreen/urls.py, which puts
them in the admin's URLs. Neither app imports the other.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from trials.background import enqueue_on_commit
from trials.models import Trial

from .archives import STUDY_FILE_SUFFIXES
from .models import ImportJob
from .tasks import run_import


class ImportCtgovForm(forms.Form):
    MAX_SIZE = settings.IMPORT_UPLOAD_MAX_MB * 2**20  # the whole file is held in memory while it imports

    file = forms.FileField(
        label=_("Study records"),
        help_text=_(
            'ClinicalTrials.gov API v2 JSON (.json, .json.gz: one study, a list, or {"studies": [...]}), or '
            "legacy clinical_study XML (.xml, or many in a .zip, .tar.xz, .tar.gz or .tgz archive)."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(STUDY_FILE_SUFFIXES):
            raise forms.ValidationError(
                _("Upload ClinicalTrials.gov records: %(suffixes)s."),
                code="file_type",
                params={"suffixes": ", ".join(STUDY_FILE_SUFFIXES)},
            )
        if upload.size > self.MAX_SIZE:
            raise forms.ValidationError(
                _(
                    "This file is %(size).1f MB; uploads here are limited to %(limit)d MB. Import it with "
                    "manage.py import_ctgov instead."
                ),
                code="file_size",
                params={"size": upload.size / 2**20, "limit": self.MAX_SIZE // 2**20},
            )
        return upload


def import_view(request):
    """Upload ClinicalTrials.gov records (linked from the trial list): starts an import job and shows it."""
    _check_import_permission(request)
    form = ImportCtgovForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # The file is stored under MEDIA_ROOT and the job row made; a worker takes it once both are committed.
        with transaction.atomic():
            job = ImportJob.objects.create(
                file_name=upload.name, size=upload.size, file=upload, started_by=request.user
            )
            enqueue_on_commit(run_import, job.pk)
        return HttpResponseRedirect(reverse("admin:trials_trial_import_job", args=[job.pk]))
    context = {
        **admin.site.each_context(request),
        "opts": Trial._meta,
        "title": _("Import from ClinicalTrials.gov"),
        "form": form,
        "jobs": ImportJob.objects.select_related("started_by")[:10],
    }
    return TemplateResponse(request, "admin/ctgov/import_ctgov.html", context)


def import_job_view(request, job_id):
    """One import: a progress bar while it runs (htmx polls the #status partial), then its summary."""
    _check_import_permission(request)
    job = ImportJob.objects.select_related("started_by").filter(pk=job_id).first()
    if job is None:
        raise Http404("No such import")
    context = {
        **admin.site.each_context(request),
        "opts": Trial._meta,
        "title": gettext("Import of %(file)s") % {"file": job.file_name},
        "job": job,
        "progress": job.progress(),
    }
    template = "admin/ctgov/import_job.html"
    if request.htmx:
        template += "#status"
    response = TemplateResponse(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def retry_import_view(request, job_id):
    """Queue a failed or stopped import again, with the file stored at upload."""
    _check_import_permission(request)
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        raise Http404("No such import")
    with transaction.atomic():
        if job.retry():
            enqueue_on_commit(run_import, job.pk)
        else:
            messages.error(
                request, gettext("Only a failed or stopped import whose file is still stored can be retried.")
            )
    return HttpResponseRedirect(reverse("admin:trials_trial_import_job", args=[job.pk]))


def _check_import_permission(request):
    # An import adds and changes trials: the trial admin's add and change permissions, as when it lived there.
    if not request.user.has_perms([f"trials.add_{Trial._meta.model_name}", f"trials.change_{Trial._meta.model_name}"]):
        raise PermissionDenied


def import_urls() -> list:
    """The import pages, for the admin's URLs (prescreen/urls.py): behind its login and staff checks."""
    return [
        path("trials/trial/import/", admin.site.admin_view(import_view), name="trials_trial_import"),
        path(
            "trials/trial/import/<int:job_id>/", admin.site.admin_view(import_job_view), name="trials_trial_import_job"
        ),
        path(
            "trials/trial/import/<int:job_id>/retry/",
            admin.site.admin_view(retry_import_view),
            name="trials_trial_import_retry",
        ),
    ]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Every upload from the import page, for the record: who imported what, when, and what came of it.
    Read-only: a job is started from the import page and finishes by itself (or is retried from its page)."""

    list_display = ("file_name", "started_at", "started_by", "status", "attempts", "result")
    list_filter = ("status",)
    search_fields = ("file_name", "started_by__username")
    list_select_related = ("started_by",)
    date_hierarchy = "started_at"

    @admin.display(description=_("result"))
    def result(self, job):
        url = reverse("admin:trials_trial_import_job", args=[job.pk])
        if job.status == ImportJob.Status.DONE:
            words = gettext("%(created)s created, %(updated)s updated, %(unchanged)s unchanged") % {
                "created": job.summary.get("created", 0),
                "updated": job.summary.get("updated", 0),
                "unchanged": job.summary.get("unchanged", 0),
            }
        elif job.summary.get("errors"):
            words = "; ".join(job.summary["errors"])[:200]
        else:
            words = gettext("the worker stopped; nothing was imported") if job.stopped else job.get_status_display()
        return format_html('<a href="{}">{}</a>', url, words)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
