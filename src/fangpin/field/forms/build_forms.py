"""Writes the shipped XLSForms (visit.xlsx, clue.xlsx, verify.xlsx) from the rows below: `python -m fangpin.field.forms.build_forms`.

The .xlsx is what a county edits in Excel and replaces (FANGPIN_FIELD_FORMS_DIR); this script keeps the
shipped one reproducible and reviewable as text."""

from __future__ import annotations

from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent

# the household is chosen from the entity list households.csv (name = household id, label = masked head
# and village); the household's version rides along in a hidden field, so the server can tell a
# submission made on facts someone has changed since the phone last synced
VISIT_SURVEY = [
    ("type", "name", "label", "required", "calculation", "appearance", "constraint", "constraint_message"),
    ("start", "start", "", "", "", "", "", ""),
    ("end", "end", "", "", "", "", "", ""),
    ("deviceid", "deviceid", "", "", "", "", "", ""),
    ("select_one_from_file households.csv", "household", "走访户", "yes", "", "autocomplete", "", ""),
    ("calculate", "household_version", "", "",
     "instance('households')/root/item[name=${household}]/__version", "", "", ""),
    ("note", "household_info", "上次走访：${last_visit}；风险类型：${risks}；到期措施：${measures_due}", "", "", "", "", ""),
    ("calculate", "last_visit", "", "", "instance('households')/root/item[name=${household}]/last_visit", "", "", ""),
    ("calculate", "risks", "", "", "instance('households')/root/item[name=${household}]/risks", "", "", ""),
    ("calculate", "measures_due", "", "",
     "instance('households')/root/item[name=${household}]/measures_due", "", "", ""),
    ("date", "visited_on", "走访日期", "yes", "", "", ". <= today()", "走访日期不能晚于今天"),
    ("text", "changes_note", "家庭情况变化", "", "", "multiline", "", ""),
    ("text", "notes", "走访记录", "yes", "", "multiline", "", ""),
    ("image", "photo", "现场照片（可选）", "", "", "", "", ""),
    ("geopoint", "location", "位置（可选）", "", "", "", "", ""),
]  # fmt: skip
VISIT_SETTINGS = [
    ("form_title", "form_id", "version"),
    ("入户走访", "fangpin_visit", "2026120302"),
]

# 一键报送: a risk the cadre found, sent as a clue of source 干部排查 (fixed by the server, not asked). A
# clue changes no fact of the register, so the household's version is not carried: it is never a conflict
CLUE_SURVEY = [
    ("type", "name", "label", "required", "calculation", "appearance", "constraint", "constraint_message"),
    ("start", "start", "", "", "", "", "", ""),
    ("end", "end", "", "", "", "", "", ""),
    ("deviceid", "deviceid", "", "", "", "", "", ""),
    ("select_one_from_file households.csv", "household", "报送户", "yes", "", "autocomplete", "", ""),
    ("calculate", "risks", "", "", "instance('households')/root/item[name=${household}]/risks", "", "", ""),
    ("note", "household_info", "已有风险类型：${risks}", "", "", "", "", ""),
    ("text", "summary", "线索内容（发现的情况）", "yes", "", "multiline", "", ""),
    ("image", "photo", "现场照片（可选）", "", "", "", "", ""),
    ("geopoint", "location", "位置（可选）", "", "", "", "", ""),
]  # fmt: skip
CLUE_SETTINGS = [
    ("form_title", "form_id", "version"),
    ("一键报送", "fangpin_clue", "2026120301"),
]


# 入户核查 of a pending clue (village team, township): the clue is picked among the household's pending
# clues (clues.csv, filtered by the household), the outcome and the note as on the web, and the
# household's facts, each pre-filled with the register's value at sync. Each fact comes twice: the
# question (h_*, i_*: what the official found) and a hidden copy of the synced value (s_h_*, s_i_*), both
# set once when the household is chosen (`trigger`), never recalculated: a draft reopened after a newer
# sync keeps the values it was filled against, so the server can tell what the phone changed (answer ≠
# copy) from what someone changed in the register since (copy ≠ register). Question names follow the
# register: h_<field> for HOUSEHOLD_FACTS, i_<field> for INCOME_FACTS of the latest year (registry.facts).
_ROW = "instance('households')/root/item[name=${household}]"


def _fact(kind: str, name: str, label: str, constraint: str = "", message: str = "") -> list[tuple[str, ...]]:
    value = f"{_ROW}/{name}"
    return [
        (kind, name, label, "", value, "${household}", "", "", constraint, message),
        ("calculate", f"s_{name}", "", "", value, "${household}", "", "", "", ""),
    ]


_MONEY = (". >= 0", "金额不能为负数")
VERIFY_SURVEY = [
    ("type", "name", "label", "required", "calculation", "trigger", "choice_filter", "appearance", "constraint",
     "constraint_message"),
    ("start", "start", "", "", "", "", "", "", "", ""),
    ("end", "end", "", "", "", "", "", "", "", ""),
    ("deviceid", "deviceid", "", "", "", "", "", "", "", ""),
    ("select_one_from_file households.csv", "household", "核查户", "yes", "", "", "", "autocomplete", "", ""),
    ("calculate", "household_version", "", "", f"{_ROW}/__version", "${household}", "", "", "", ""),
    ("calculate", "pending", "", "", "count(instance('clues')/root/item[household=${household}])", "", "", "",
     "", ""),
    ("note", "no_clue", "该户没有待核查的线索：请先同步，或在平台上登记线索", "", "", "", "", "", "", ""),
    ("select_one_from_file clues.csv", "clue", "核查的线索", "yes", "", "", "household=${household}", "", "", ""),
    ("select_one outcome", "outcome", "核查结果", "yes", "", "", "", "", "", ""),
    ("text", "verification_note", "核查情况", "yes", "", "", "", "multiline", "", ""),
    ("begin group", "facts", "户情况（已按同步时的台账填好，没有变化的不用改）", "", "", "", "", "field-list", "", ""),
    *_fact("select_one yesno", "h_dangerous_house", "是否危房户"),
    *_fact("select_one yesno", "h_safe_drinking_water", "是否解决安全饮用水"),
    *_fact("select_one yesno", "h_no_labour_household", "整户无劳动能力兜底保障户"),
    *_fact("decimal", "h_compliant_self_pay", "合规自付支出（元）", *_MONEY),
    ("calculate", "income_year", "", "", f"{_ROW}/income_year", "${household}", "", "", "", ""),
    ("note", "income_info", "以下为${income_year}年收入（元）", "", "", "", "", "", "", ""),
    *_fact("decimal", "i_wage", "工资性收入（元）", *_MONEY),
    *_fact("decimal", "i_business", "生产经营性收入（元）", *_MONEY),
    *_fact("decimal", "i_property", "财产性收入（元）", *_MONEY),
    *_fact("decimal", "i_transfer", "转移性收入（元）", *_MONEY),
    *_fact("decimal", "i_business_expense", "生产经营性支出（元）", *_MONEY),
    ("end group", "facts", "", "", "", "", "", "", "", ""),
    ("image", "photo", "现场照片（可选）", "", "", "", "", "", "", ""),
    ("image", "form_photo", "信息采集表照片（可选）", "", "", "", "", "", "", ""),
    ("geopoint", "location", "位置（可选）", "", "", "", "", "", "", ""),
]  # fmt: skip
# the relevance of the note and of the clue question, kept apart from the rows above for their width
VERIFY_RELEVANT = {"no_clue": "${pending} = 0", "clue": "${pending} > 0"}
# the outcomes of monitoring's Clue (rules.Finding.Outcome): a test holds the two lists equal
VERIFY_CHOICES = [
    ("list_name", "name", "label"),
    ("outcome", "confirmed", "确认有风险"),
    ("outcome", "no_risk", "经核实无风险"),
    ("outcome", "wrong_person", "非本人"),
    ("outcome", "already_helped", "已在帮扶"),
    ("yesno", "1", "是"),
    ("yesno", "0", "否"),
]
VERIFY_SETTINGS = [
    ("form_title", "form_id", "version"),
    ("入户核查", "fangpin_verify", "2026120301"),
]


def write(
    path: Path,
    survey: list[tuple[str, ...]],
    settings: list[tuple[str, ...]],
    choices: list[tuple[str, ...]] = (),
    relevant: dict[str, str] | None = None,
) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    header = list(survey[0]) + (["relevant"] if relevant else [])
    sheet.append(header)
    for row in survey[1:]:
        sheet.append(list(row) + ([relevant.get(row[1], "")] if relevant else []))
    if choices:
        sheet = book.create_sheet("choices")
        for row in choices:
            sheet.append(list(row))
    sheet = book.create_sheet("settings")
    for row in settings:
        sheet.append(list(row))
    book.save(path)
    return path


def main() -> None:
    write(HERE / "visit.xlsx", VISIT_SURVEY, VISIT_SETTINGS)
    write(HERE / "clue.xlsx", CLUE_SURVEY, CLUE_SETTINGS)
    write(HERE / "verify.xlsx", VERIFY_SURVEY, VERIFY_SETTINGS, VERIFY_CHOICES, VERIFY_RELEVANT)


if __name__ == "__main__":
    main()
