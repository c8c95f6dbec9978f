"""Default income parameters for 山西 (14), from shared/domain/policy.md §2 and §4.

Only 2021's 6,000 yuan is a confirmed national floor. Shanxi published no value we could read, so
2022–2026 are placeholders inside the range policy.md gives (6,600–8,800, rising), stored as
UNCONFIRMED and shown as 待核实 in the UI until a county administrator enters the official figure.
"""

from decimal import Decimal

from django.db import migrations

LINES = {
    2021: ("6000", True, "中农组发〔2021〕7号：脱贫攻坚期国家扶贫标准的1.5倍（policy.md §2.1 [C11]）"),
    2022: ("6600", False, "UNCONFIRMED：山西省未找到公开数值，取 policy.md §2.3 区间下限"),
    2023: ("7100", False, "UNCONFIRMED：山西省未找到公开数值（他省 7,000–8,050，policy.md §2.2）"),
    2024: ("7600", False, "UNCONFIRMED：山西省未找到公开数值（他省 8,500–8,800，policy.md §2.2）"),
    2025: ("8000", False, "UNCONFIRMED：山西省未找到公开数值（云南 8,700，policy.md §2.2）"),
    2026: ("8300", False, "UNCONFIRMED：2026 年标准尚未发布（policy.md §13）"),
}


def forwards(apps, schema_editor):
    IncomePolicy = apps.get_model("registry", "IncomePolicy")
    for year, (line, confirmed, source) in LINES.items():
        IncomePolicy.objects.get_or_create(
            province_code="14",
            year=year,
            defaults={
                "monitoring_line": Decimal(line),
                "line_confirmed": confirmed,
                "line_source": source,
                # policy §4.2 open points (UNCONFIRMED): awards counted as income, the special
                # subsidy netted against production costs, insurance payouts recorded only,
                # divided by 年度家庭人口数.
                "awards_treatment": "income",
                "special_subsidy_treatment": "offset_expense",
                "claims_counted": False,
                "divisor": "annual",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
