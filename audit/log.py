"""`record()`: append one entry to the access log, chained to the one before it."""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import AccessLog

GENESIS = "0" * 64
LOCK_KEY = 0x617564697431  # "audit1": the advisory lock that serialises appends


def record(request, action: str, obj_ref: str = "", *, user=None, username: str = "", **detail) -> AccessLog:
    """Append an entry for `action` by `user` or else the request's user (or just `username`, e.g. for a
    failed login).

    Keep `obj_ref` and `detail` free of answers and patient data: a reference like "screening:12" and
    counts or filters only."""
    user = user or getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    with transaction.atomic():
        # One writer at a time, or two would chain to the same predecessor. Locking the last row (SELECT ... FOR
        # UPDATE) is not enough: a writer waiting on it would then read that same row again, not the one the first
        # writer added. So on PostgreSQL a transaction-level advisory lock, taken before the last row is read;
        # SQLite has one writer anyway. (prev_hash is unique as well: a fork could not be saved.)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        last = AccessLog.objects.order_by("-id").only("hash").first()
        entry = AccessLog(
            at=timezone.now(),
            user=user,
            username=user.get_username() if user else _text(username)[:150],
            action=action,
            obj_ref=_text(obj_ref)[:100],
            detail=_text(detail),
            ip=_ip(request) if request is not None else "",
            prev_hash=last.hash if last else GENESIS,
        )
        entry.hash = entry.compute_hash()
        entry.save()
    return entry


def _text(value):
    """`value` with NUL characters replaced: what was sent is logged as sent (filters included), but PostgreSQL
    stores no NUL in text or JSON, and a request must not fail because its log entry could not be saved."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_text(k): _text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    return value


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
