from django.core.management import call_command
from django.core.management.base import BaseCommand

from plan.models import Plan


class Command(BaseCommand):
    help = "Loads the 2014 plan fixture (plan_2014) when the database holds no plan yet."

    def handle(self, *args, **options):
        if Plan.objects.exists():
            self.stdout.write("A plan is already loaded; nothing to do.")
            return
        call_command("loaddata", "plan_2014", verbosity=0)
        self.stdout.write(f"Loaded {Plan.objects.get()}.")
