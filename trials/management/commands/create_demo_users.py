from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from prescreen.roles import ADMIN, CLINICIAN, COORDINATOR

DEMO_USERS = {
    # username: (role, password, is_staff)
    "clinician": (CLINICIAN, "clinician-demo", False),
    "coordinator": (COORDINATOR, "coordinator-demo", False),
    "admin": (ADMIN, "admin-demo", True),
}


class Command(BaseCommand):
    help = "Create the demo users clinician, coordinator and admin (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo users are for development only (DEBUG is off).")
        User = get_user_model()
        for username, (role, password, staff) in DEMO_USERS.items():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
            user.is_staff = staff
            user.is_superuser = staff
            user.save()
            user.groups.add(Group.objects.get(name=role))
            self.stdout.write(f"  {username:<12} password: {password:<18} role: {role}{'' if created else ' (exists)'}")
        self.after_users()

    def after_users(self):
        from trials.models import Trial
        from trials.seed import SEED_TRIALS

        coordinator = get_user_model().objects.get(username="coordinator")
        for trial in Trial.objects.filter(nct_id__in=SEED_TRIALS):
            trial.coordinators.add(coordinator)
        self.stdout.write("  coordinator is assigned to the seed trials")
