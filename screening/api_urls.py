import functools

from audit.log import record
from audit.models import AccessLog

from .api import api


def _logged(view):
    """Each call to the API goes to the access log: who, which endpoint, the status; never the body."""

    @functools.wraps(view)
    def logged(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        record(request, AccessLog.Action.API_CALL, request.path, method=request.method, status=response.status_code)
        return response

    return logged


urlpatterns, app_name, namespace = api.urls
# Ninja's root page lists the docs, which this API does not serve (the document needs authentication).
urlpatterns = [pattern for pattern in urlpatterns if pattern.name != "api-root"]
for pattern in urlpatterns:
    pattern.callback = _logged(pattern.callback)
    # The API answers 401 in JSON itself rather than LoginRequiredMiddleware redirecting to the login page.
    pattern.callback.login_required = False
