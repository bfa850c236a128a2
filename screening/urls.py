from django.urls import path

from trials import converters  # noqa: F401  (registers <nct:...>)

from . import views

# prescreen/urls.py adds the referral page (referrals.urls.screening_urlpatterns) to this namespace.
app_name = "screening"
urlpatterns = [
    path("", views.screening_list, name="list"),
    path("new/", views.screening_new, name="new"),
    path("<int:pk>/", views.questionnaire, name="detail"),
    path("<int:pk>/print/", views.screening_print, name="print"),
    path("<int:pk>/prefill/", views.prefill, name="prefill"),
    path("<int:pk>/discard/", views.discard, name="discard"),
    path("<int:pk>/more/<str:verdict>/", views.more_results, name="more"),
    path("<int:pk>/trial/<nct:nct_id>/criteria/", views.trial_criteria, name="criteria"),
]
