"""Signals other apps may listen to (the supervision app sends notices on them). Sent by
tasks.services after the change is saved; tasks itself imports nothing above it."""

from django.dispatch import Signal

# A reviewer approved or returned a report. Arguments: report, reviewer, approved (bool).
report_reviewed = Signal()

# A cooperating unit submitted (version 1) or corrected a contribution. Argument: contribution.
contribution_saved = Signal()
