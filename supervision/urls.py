from django.urls import path

from . import views

urlpatterns = [
    path("notices/", views.notice_list, name="notice-list"),
    path("notices/<int:pk>/", views.notice_open, name="notice-open"),
    path("notices/read-all/", views.notice_read_all, name="notice-read-all"),
    path("notices/unread.json", views.notice_count, name="notice-count"),
    path("notices/settings/", views.notice_settings, name="notice-settings"),
    path("supervision/", views.overview, name="supervision-overview"),
    path("supervision/bulletin.docx", views.bulletin_download, name="bulletin-download"),
    path(
        "supervision/measures/<int:measure_id>/instruct/",
        views.instruction_new,
        name="instruction-new",
    ),
    path("supervision/instructions/<int:pk>/", views.instruction_detail, name="instruction-detail"),
    path(
        "supervision/instructions/<int:pk>/acknowledge/",
        views.instruction_acknowledge,
        name="instruction-acknowledge",
    ),
    path(
        "supervision/instructions/<int:pk>/answer/",
        views.instruction_answer,
        name="instruction-answer",
    ),
    path("supervision/files/<int:pk>/", views.answer_file, name="answer-file"),
    path("supervision/offices/<int:office_id>/urge/", views.urging_new, name="urging-new"),
    path("supervision/urgings/<int:pk>/", views.urging_detail, name="urging-detail"),
    path("supervision/urgings/<int:pk>/reply/", views.urging_reply, name="urging-reply"),
]
