from django.contrib import admin

from .models import Plan, WorkArea


class WorkAreaInline(admin.TabularInline):
    model = WorkArea
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["title", "year", "issuer", "issued_on", "published"]
    list_filter = ["year", "published"]
    search_fields = ["title"]
    inlines = [WorkAreaInline]


@admin.register(WorkArea)
class WorkAreaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "order"]
    list_filter = ["plan"]
    search_fields = ["title"]
