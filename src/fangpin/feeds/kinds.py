"""The department rosters of formats §4: their canonical columns, synonyms and value kinds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str  # canonical Chinese column name
    key: str  # the column in the snapshot table
    kind: str = "text"  # text, id, date, money, int
    required: bool = False
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class RosterKind:
    code: str
    label: str
    department: str
    fields: tuple[Field, ...]
    household_level: bool = False  # identified by 户主证件号码

    @property
    def table(self) -> str:
        return f"roster_{self.code}"


ID = Field("证件号码", "id_number", "id", True, ("身份证号", "身份证号码", "公民身份号码", "证件号"))
HEAD_ID = Field(
    "户主证件号码", "id_number", "id", True, ("户主身份证号", "户主身份证号码", "证件号码", "身份证号")
)
NAME = Field("姓名", "name", synonyms=("参保人姓名", "人员姓名"))
HEAD_NAME = Field("户主姓名", "name", synonyms=("姓名",))

KINDS: dict[str, RosterKind] = {
    kind.code: kind
    for kind in (
        RosterKind("medical", "医保结算", "医保", (
            ID, NAME, Field("结算日期", "date", "date", True, ("结算时间", "出院日期")),
            Field("医疗总费用", "total_cost", "money", synonyms=("总费用",)),
            Field("基本医保支付", "basic_paid", "money", synonyms=("统筹支付", "基本医疗保险支付")),
            Field("大病保险支付", "critical_paid", "money"),
            Field("医疗救助支付", "assistance_paid", "money"),
            Field("个人自付", "self_pay", "money", True, ("合规自付", "个人负担", "个人自付金额")),
        )),
        RosterKind("disability", "残疾人名册", "残联", (
            Field("证件号码", "id_number", "id", True, ("残疾人证号", "身份证号", "身份证号码")), NAME,
            Field("残疾类别", "category"), Field("残疾等级", "grade"),
            Field("发证日期", "date", "date", True, ("办证日期",)),
        )),
        RosterKind("deregistration", "死亡和户籍注销", "公安", (
            ID, NAME, Field("注销原因", "reason", required=True), Field("注销日期", "date", "date", True),
        )),
        RosterKind("schooling", "学籍", "教育", (
            ID, NAME, Field("学校", "school"), Field("学段", "stage"), Field("年级", "grade"),
            Field("学籍状态", "status", required=True), Field("日期", "date", "date", True, ("变动日期",)),
        )),
        RosterKind("assistance", "民政救助", "民政", (
            ID, NAME, Field("救助类型", "type", required=True), Field("开始日期", "date", "date", True),
            Field("结束日期", "end_date", "date"), Field("金额", "amount", "money"),
        )),
        RosterKind("housing", "住房安全鉴定", "住建", (
            HEAD_ID, HEAD_NAME, Field("鉴定等级", "grade", required=True), Field("鉴定日期", "date", "date", True),
        ), household_level=True),
        RosterKind("disaster", "受灾", "应急", (
            HEAD_ID, HEAD_NAME, Field("灾害类型", "type", required=True),
            Field("直接经济损失", "loss", "money", True), Field("受灾日期", "date", "date", True),
        ), household_level=True),
        RosterKind("employment", "就业失业", "人社", (
            ID, NAME, Field("类型", "type", required=True), Field("日期", "date", "date", True),
            Field("月收入", "monthly_income", "money"),
        )),
        RosterKind("assets", "资产比对", "财政", (
            ID, NAME, Field("类型", "type", required=True), Field("说明", "detail"), Field("日期", "date", "date", True),
        )),
    )
}  # fmt: skip
