"""What the services announce once a write is committed (for notices, issue #16).

Each signal is sent by tasks.services inside the write's transaction, once the change is saved:
what a receiver writes (a notice) commits or rolls back with the write; what leaves the database
(a mail) must wait for transaction.on_commit, as supervision's notices do."""

from django.dispatch import Signal

#: A reviewer approved or returned a report. kwargs: report, reviewer, approved, channel.
report_reviewed = Signal()
#: A cooperating unit saved its contribution. kwargs: contribution, user, created.
contribution_saved = Signal()
#: Any new version of a report (saved, submitted, withdrawn, reviewed, file removed).
#: kwargs: report, user, event, channel.
report_changed = Signal()
