from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "supervision"
    verbose_name = _("督查督办")

    def ready(self):
        from tasks import signals as task_signals

        from . import receivers

        # tasks knows nothing of supervision: it only sends these signals.
        task_signals.report_reviewed.connect(
            receivers.report_reviewed, dispatch_uid="supervision_report_reviewed"
        )
        task_signals.contribution_saved.connect(
            receivers.contribution_saved, dispatch_uid="supervision_contribution_saved"
        )
