"""Roles are Django groups. Views declare the roles they admit with @role_required."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

CLINICIAN = "Clinician"
COORDINATOR = "Coordinator"
ADMIN = "Admin"
ROLES = (CLINICIAN, COORDINATOR, ADMIN)
# The roles' names for people (the group names above are data and stay English).
ROLE_NAMES = {
    CLINICIAN: pgettext_lazy("role", "Clinician"),
    COORDINATOR: pgettext_lazy("role", "Coordinator"),
    ADMIN: pgettext_lazy("role", "Admin"),
}


def role_name(role: str) -> str:
    """A role (a group name) as the reader's language calls it; another group's name as it is."""
    return str(ROLE_NAMES.get(role, role))


def roles_of(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_prescreen_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached.add(ADMIN)
        user._prescreen_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user).intersection(roles))


def role_required(*roles: str):
    """Admit only users in one of `roles` (login is already enforced by LoginRequiredMiddleware)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                # Shown on the 403 page (prescreen.views.permission_denied, the project's handler403).
                raise PermissionDenied(
                    _("This page is for: %(roles)s.")
                    % {"roles": pgettext("list separator", ", ").join(role_name(r) for r in roles)}
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def roles_context(request):
    # Error pages can render before authentication ran, without request.user.
    user_roles = roles_of(request.user) if hasattr(request, "user") else set()
    return {
        "is_clinician": CLINICIAN in user_roles,
        "is_coordinator": COORDINATOR in user_roles,
        "is_admin": ADMIN in user_roles,
    }
