"""The default 依据 of the yearly income parameters (0002) in the words the page shows officials:
"UNCONFIRMED" and "policy.md §" were internal notes. Only rows still holding the shipped text change."""

from django.db import migrations

POINTS = "《防止返贫致贫监测和帮扶政策要点》"
SOURCES = {
    2021: (
        "中农组发〔2021〕7号：脱贫攻坚期国家扶贫标准的1.5倍（policy.md §2.1 [C11]）",
        f"中农组发〔2021〕7号：脱贫攻坚期国家扶贫标准的1.5倍（{POINTS}第2.1节）",
    ),
    2022: (
        "UNCONFIRMED：山西省未找到公开数值，取 policy.md §2.3 区间下限",
        f"待核实：山西省未找到公开数值，暂取{POINTS}第2.3节所列区间的下限",
    ),
    2023: (
        "UNCONFIRMED：山西省未找到公开数值（他省 7,000–8,050，policy.md §2.2）",
        f"待核实：山西省未找到公开数值（他省7,000–8,050元，{POINTS}第2.2节）",
    ),
    2024: (
        "UNCONFIRMED：山西省未找到公开数值（他省 8,500–8,800，policy.md §2.2）",
        f"待核实：山西省未找到公开数值（他省8,500–8,800元，{POINTS}第2.2节）",
    ),
    2025: (
        "UNCONFIRMED：山西省未找到公开数值（云南 8,700，policy.md §2.2）",
        f"待核实：山西省未找到公开数值（云南8,700元，{POINTS}第2.2节）",
    ),
    2026: (
        "UNCONFIRMED：2026 年标准尚未发布（policy.md §13）",
        f"待核实：2026年标准尚未发布（{POINTS}第13节）",
    ),
}


def forwards(apps, schema_editor):
    IncomePolicy = apps.get_model("registry", "IncomePolicy")
    for year, (shipped, shown) in SOURCES.items():
        IncomePolicy.objects.filter(province_code="14", year=year, line_source=shipped).update(
            line_source=shown
        )


def backwards(apps, schema_editor):
    IncomePolicy = apps.get_model("registry", "IncomePolicy")
    for year, (shipped, shown) in SOURCES.items():
        IncomePolicy.objects.filter(province_code="14", year=year, line_source=shown).update(
            line_source=shipped
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_expenditure")]

    operations = [migrations.RunPython(forwards, backwards)]
