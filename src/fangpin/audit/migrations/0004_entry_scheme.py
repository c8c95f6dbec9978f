"""Each entry records how its hash was made. Rows already in the log were plain SHA-256 and cannot be
rewritten (the triggers forbid UPDATE), so the column is added with the legacy value as the default the
existing rows take, and then the default becomes the keyed scheme for every entry written from now on.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_unlock_action")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="scheme",
            field=models.CharField(
                choices=[("sha256", "SHA-256（旧记录）"), ("hmac", "HMAC-SHA256")],
                default="sha256",
                max_length=8,
                verbose_name="哈希方式",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="scheme",
            field=models.CharField(
                choices=[("sha256", "SHA-256（旧记录）"), ("hmac", "HMAC-SHA256")],
                default="hmac",
                max_length=8,
                verbose_name="哈希方式",
            ),
        ),
    ]
