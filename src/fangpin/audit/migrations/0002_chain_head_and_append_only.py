"""The chain head row, and triggers that refuse UPDATE and DELETE on the audit log.

On SQLite, Django applies most later AlterField operations by rebuilding the table, which drops its
triggers; `audit.apps` therefore installs them again after every migrate (see audit/triggers.py).
"""

from django.db import migrations

from fangpin.audit.triggers import DROP, install


def forwards(apps, schema_editor):
    apps.get_model("audit", "ChainHead").objects.get_or_create(pk=1)
    install(schema_editor.connection)


def backwards(apps, schema_editor):
    for sql in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
