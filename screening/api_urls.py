from .api import api

urlpatterns, app_name, namespace = api.urls
for pattern in urlpatterns:
    # The API answers 401 in JSON itself rather than LoginRequiredMiddleware redirecting to the login page.
    pattern.callback.login_required = False
