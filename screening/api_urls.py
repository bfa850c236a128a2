from .api import api

urlpatterns, app_name, namespace = api.urls
# Ninja's root page lists the docs, which this API does not serve (the document needs authentication).
urlpatterns = [pattern for pattern in urlpatterns if pattern.name != "api-root"]
for pattern in urlpatterns:
    # The API answers 401 in JSON itself rather than LoginRequiredMiddleware redirecting to the login page.
    pattern.callback.login_required = False
