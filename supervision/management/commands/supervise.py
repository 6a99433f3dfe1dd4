from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from plantracker import clock
from supervision import services


class Command(BaseCommand):
    help = (
        "Escalates urgings (催办) not settled by their date to the leaders, and tells the "
        "offices and the leader of instructions (批示) not answered by their date: a notice "
        "and one mail each, once. For cron, daily (after send_reminders)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="pretend today is this date (YYYY-MM-DD)")

    def handle(self, *args, date=None, **options):
        today = clock.today_or(date)
        with translation.override(settings.LANGUAGE_CODE):
            escalated = services.escalate(today)
            overdue = services.remind_overdue_instructions(today)
        for urging in escalated:
            self.stdout.write(f"Escalated urging {urging.pk} ({urging.office.name}).")
        self.stdout.write(f"Escalated {len(escalated)} urging(s) on {today}.")
        for row in overdue:
            self.stdout.write(f"Instruction {row.instruction.pk} overdue: offices and leader told.")
        self.stdout.write(f"Told of {len(overdue)} overdue instruction(s) on {today}.")
