from django.urls import path

from . import cooperation_views, dashboard_views, public_views, views

urlpatterns = [
    path("public/", public_views.public_index, name="public-index"),
    path("public/plans/<int:pk>/", public_views.public_plan, name="public-plan"),
    path("cooperation/", cooperation_views.unit_work, name="unit-work"),
    path(
        "cooperation/milestones/<int:milestone_id>/q<int:quarter>/",
        cooperation_views.contribution_edit,
        name="contribution-edit",
    ),
    path(
        "cooperation/files/<int:pk>/", cooperation_views.contribution_file, name="contribution-file"
    ),
    path(
        "cooperation/files/<int:pk>/remove/",
        cooperation_views.contribution_file_remove,
        name="contribution-file-remove",
    ),
    path("work/", views.my_work, name="my-work"),
    path(
        "work/milestones/<int:milestone_id>/q<int:quarter>/",
        views.report_edit,
        name="report-edit",
    ),
    path("work/offline/template.xlsx", views.offline_download, name="offline-download"),
    path("work/offline/upload/", views.offline_upload, name="offline-upload"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/review/", views.report_review, name="report-review"),
    path("reports/<int:pk>/withdraw/", views.report_withdraw, name="report-withdraw"),
    path("evidence/<int:pk>/remove/", views.evidence_remove, name="evidence-remove"),
    path("review/", views.review_queue, name="review-queue"),
    path("plans/<int:pk>/plan.xlsx", dashboard_views.plan_xlsx, name="plan-xlsx"),
    path("dashboard/", dashboard_views.overview, name="dashboard"),
    path("dashboard/changes/", dashboard_views.changes, name="dashboard-changes"),
    path("dashboard/overview.xlsx", dashboard_views.overview_xlsx, name="dashboard-xlsx"),
    path(
        "dashboard/plans/<int:plan_id>/offices/<int:office_id>/",
        dashboard_views.office_summary,
        name="dashboard-office",
    ),
    path("dashboard/measures/<int:pk>/", dashboard_views.measure_detail, name="dashboard-measure"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence-download"),
]
