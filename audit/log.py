"""`record()`: append one entry to the access log, chained to the one before it."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import AccessLog

GENESIS = "0" * 64


def record(request, action: str, obj_ref: str = "", *, user=None, username: str = "", **detail) -> AccessLog:
    """Append an entry for `action` by `user` or else the request's user (or just `username`, e.g. for a
    failed login).

    Keep `obj_ref` and `detail` free of answers and patient data: a reference like "screening:12" and
    counts or filters only."""
    user = user or getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    with transaction.atomic():
        # The last row, locked: two writers at once would otherwise chain to the same predecessor.
        # (SQLite ignores FOR UPDATE, but there a write transaction is already serialised.)
        last = AccessLog.objects.select_for_update().order_by("-id").only("hash").first()
        entry = AccessLog(
            at=timezone.now(),
            user=user,
            username=user.get_username() if user else username[:150],
            action=action,
            obj_ref=obj_ref,
            detail=detail,
            ip=_ip(request) if request is not None else "",
            prev_hash=last.hash if last else GENESIS,
        )
        entry.hash = entry.compute_hash()
        entry.save()
    return entry


def _ip(request) -> str:
    # The audit app imports no other app of the project: it reads the client's address the way axes is told to.
    path = getattr(settings, "AXES_CLIENT_IP_CALLABLE", "")
    if path:
        return import_string(path)(request)
    return request.META.get("REMOTE_ADDR", "")


def verify() -> tuple[int, AccessLog | None, str]:
    """Walk the chain in order: (entries checked, the first broken entry or None, what is wrong with it)."""
    prev = GENESIS
    count = 0
    for entry in AccessLog.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != prev:
            return count, entry, "its prev_hash is not the hash of the entry before it (a row was removed or inserted)"
        if entry.compute_hash() != entry.hash:
            return count, entry, "its fields do not match its hash (the row was edited)"
        prev = entry.hash
        count += 1
    return count, None, ""
