"""Writes the shipped XLSForms (visit.xlsx, clue.xlsx) from the rows below: `python -m fangpin.field.forms.build_forms`.

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
    ("note", "household_info", "上次走访：${last_visit}；风险类型：${risks}", "", "", "", "", ""),
    ("calculate", "last_visit", "", "", "instance('households')/root/item[name=${household}]/last_visit", "", "", ""),
    ("calculate", "risks", "", "", "instance('households')/root/item[name=${household}]/risks", "", "", ""),
    ("date", "visited_on", "走访日期", "yes", "", "", ". <= today()", "走访日期不能晚于今天"),
    ("text", "changes_note", "家庭情况变化", "", "", "multiline", "", ""),
    ("text", "notes", "走访记录", "yes", "", "multiline", "", ""),
    ("image", "photo", "现场照片（可选）", "", "", "", "", ""),
    ("geopoint", "location", "位置（可选）", "", "", "", "", ""),
]  # fmt: skip
VISIT_SETTINGS = [
    ("form_title", "form_id", "version"),
    ("入户走访", "fangpin_visit", "2026051801"),
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


def write(path: Path, survey: list[tuple[str, ...]], settings: list[tuple[str, ...]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(list(row))
    sheet = book.create_sheet("settings")
    for row in settings:
        sheet.append(list(row))
    book.save(path)
    return path


def main() -> None:
    write(HERE / "visit.xlsx", VISIT_SURVEY, VISIT_SETTINGS)
    write(HERE / "clue.xlsx", CLUE_SURVEY, CLUE_SETTINGS)


if __name__ == "__main__":
    main()
