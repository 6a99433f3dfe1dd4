from django.db import migrations


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="配合单位人员")


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="配合单位人员").delete()


class Migration(migrations.Migration):
    dependencies = [("departments", "0002_role_groups")]

    operations = [migrations.RunPython(create_group, delete_group)]
