"""One vocabulary per enumerated column of the national layouts (formats §2/§3, policy §12.4).

County files write the same fact in many ways: 是/√/Y/1, 普通农户 for 一般农户, 否 or 无 in 公益性岗位
for "holds no post". Every such column is read through its vocabulary here, at import, so that
everything after the import (rules, pages, exports) sees one spelling. A value that is in no
vocabulary is kept out of the register's field (never guessed), reported by row and column, and
becomes a 数据疑点 (DQ_VALUE_UNKNOWN) through the import's fault record.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from fangpin.common import cells

from . import choices

# Words a clerk (or the national export) writes for "nothing here" in a "which post / which measure"
# column. In such a column they mean "none", never the name of a post or a measure.
NONE_WORDS = frozenset(
    {"否", "无", "没有", "—", "-", "--", "——", "/", "／", "0", "空", "暂无", "NULL", "null"}
)


GRADES = ("一", "二", "三", "四", "五", "六", "七", "八", "九")
SCHOOL_STATUS = (
    "学龄前儿童", "学前教育",
    *(f"小学{g}年级" for g in GRADES[:6]), "七年级", "八年级", "九年级",
    *(f"高中{g}年级" for g in GRADES[:3]), *(f"中职{g}年级" for g in GRADES[:3]),
    *(f"高职高专{g}年级" for g in GRADES[:3]), "技师", "本科", "硕士生及以上",
)  # fmt: skip
SCHOOL_SYNONYMS = {
    **{f"初中{g}年级": f"{grade}年级" for g, grade in zip(GRADES[:3], GRADES[6:], strict=True)},
    **{f"{g}年级": f"小学{g}年级" for g in GRADES[:6]},
    "幼儿园": "学前教育", "学前": "学前教育", "研究生": "硕士生及以上", "硕士": "硕士生及以上",
    "博士": "硕士生及以上", "大学": "本科", "大学本科": "本科", "非在校生": "", "不在校": "",
}  # fmt: skip


@dataclass(frozen=True)
class Vocabulary:
    """The values a column may hold, the other spellings of each, and whether a none-word empties it."""

    values: tuple[str, ...] = ()
    synonyms: dict[str, str] = field(default_factory=dict)
    none_means_empty: bool = False  # 否/无/— mean "none" (a post or measure column)

    def read(self, text: str) -> tuple[str, bool]:
        """(canonical value, known?). Empty text is known and empty."""
        if not text:
            return "", True
        if self.none_means_empty and text in NONE_WORDS:
            return "", True
        key = _fold(text)
        value = self.synonyms.get(key, self.synonyms.get(text, text))
        if not self.values or not value:  # no vocabulary, or a synonym of "nothing" (非在校生)
            return value, True
        if value in self.values:
            return value, True
        folded = {_fold(v): v for v in self.values}
        if key in folded:
            return folded[key], True
        return "", False


def _fold(text: str) -> str:
    """Compare without spaces and width differences (（）/(), full-width letters)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _synonyms(mapping: dict[str, str]) -> dict[str, str]:
    return {_fold(k): v for k, v in mapping.items()}


V = Vocabulary
VOCABULARIES: dict[str, Vocabulary] = {
    "member.id_type": V(choices.ID_TYPES, _synonyms({"居民身份证": "身份证", "二代身份证": "身份证",
                                                      "身份证号": "身份证", "残疾证": "残疾人证"})),
    "member.relation": V(choices.RELATIONS, _synonyms({
        "本人": "户主", "户主本人": "户主", "妻": "配偶", "夫": "配偶", "妻子": "配偶", "丈夫": "配偶",
        "子": "之子", "儿子": "之子", "长子": "之子", "次子": "之子", "女": "之女", "女儿": "之女",
        "长女": "之女", "次女": "之女", "儿媳": "之儿媳", "女婿": "之女婿", "孙子": "之孙子",
        "孙女": "之孙女", "父亲": "之父", "母亲": "之母", "兄弟姐妹": "之兄弟姐妹",
    })),
    "member.gender": V(choices.GENDERS, _synonyms(choices.GENDER_SYNONYMS | {"男性": "男", "女性": "女"})),
    "member.education": V(choices.EDUCATION, _synonyms({
        "文盲": "文盲或半文盲", "半文盲": "文盲或半文盲", "学龄前": "", "学龄前儿童": "", "大学本科": "本科及以上",
        "本科": "本科及以上", "研究生": "本科及以上", "中技": "中专", "职高": "中专",
    })),
    "member.school_status": V(SCHOOL_STATUS, _synonyms(SCHOOL_SYNONYMS), none_means_empty=True),
    "member.health": V(choices.HEALTH, _synonyms({"长期慢性病患者": "长期慢性病", "慢性病": "长期慢性病",
                                                   "大病": "患有大病", "患大病": "患有大病", "残": "残疾"})),
    "member.labour_skill": V(choices.LABOUR_SKILLS, _synonyms({"弱劳动力": "弱劳动力或半劳动力",
                                                               "半劳动力": "弱劳动力或半劳动力"})),
    "member.public_welfare_post": V(none_means_empty=True),
    "member.dropout_reason": V(none_means_empty=True),
    "household.household_type": V(choices.HOUSEHOLD_TYPES, _synonyms(choices.HOUSEHOLD_TYPE_SYNONYMS)),
    "household.monitoring_category": V(choices.MONITORING_CATEGORIES, _synonyms({
        "脱贫不稳定户（监测对象）": "脱贫不稳定户", "边缘易致贫户（监测对象）": "边缘易致贫户",
        "突发严重困难户（监测对象）": "突发严重困难户", "非监测对象": "", "无": "",
    })),
    "household.elimination_method": V(choices.ELIMINATION_METHODS),
    "household.development_measure_status": V(none_means_empty=True),
    **{f"household.risk_{i}": V(choices.RISK_TYPES, _synonyms(choices.RISK_SYNONYMS), none_means_empty=True)
       for i in range(1, 6)},
}  # fmt: skip
MEASURE_VOCABULARY = V(none_means_empty=True)  # each item of a measure-group cell


def read_yes_no(text: str) -> tuple[bool | None, bool]:
    """(value, known?) of a yes/no cell, read by `cells.yes_no`: empty is unknown (None), never "no"."""
    try:
        return cells.yes_no(text), True
    except cells.CellError:
        return None, False


def read_measures(items: list[str]) -> list[str]:
    """The measures of one group cell without the none-words (无, 否, —)."""
    return [item for item in items if item not in NONE_WORDS]


# a cell's text as a message may quote it (long digit runs masked, long text cut): one definition in
# common.cells, whose own messages quote cells the same way
shown = cells.shown
