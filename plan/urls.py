from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("ping/", views.ping, name="ping"),
    path("plans/", views.latest_plan, name="plan-latest"),
    path("plans/<int:pk>/", views.plan_document, name="plan-document"),
]
