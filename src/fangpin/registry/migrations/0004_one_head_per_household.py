from django.db import migrations, models


def keep_one_head(apps, schema_editor):
    """Registers imported before the constraint may hold a household with two 户主: the first keeps the
    title, the others are recorded as the import records them now (EXTRA_HEAD, listed by DQ_HEAD_COUNT)."""
    Member = apps.get_model("registry", "Member")
    seen: set[int] = set()
    for member in Member.objects.filter(relation="户主").order_by("household_id", "id").iterator():
        if member.household_id not in seen:
            seen.add(member.household_id)
            continue
        member.relation = ""
        member.value_faults = {**member.value_faults, "与户主关系": {"kind": "extra_head", "shown": "户主"}}
        member.save(update_fields=["relation", "value_faults"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_value_faults"),
    ]

    operations = [
        migrations.RunPython(keep_one_head, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="member",
            constraint=models.UniqueConstraint(
                condition=models.Q(("relation", "户主")),
                fields=("household",),
                name="member_one_head_per_household",
            ),
        ),
    ]
