"""Faults of values that an import keeps: what each kind is called and which rule lists it.

The national system holds these values as they are (a wrong check digit, an ID that Excel turned
into 1.40826E+17, a phone that is no phone), so a county's export carries them and nobody can repair
them in the file. An import keeps them and records them on the member or household
(`value_faults`: {column: {"kind", "shown"}}); the screening reads that record as the snapshot table
`value_fault` and files a 数据疑点 for each (catalogue file 15_import_faults.toml). A strict import
refuses the file instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from fangpin.common.idnumber import IdFault

from .rows import FaultKind


@dataclass(frozen=True)
class FaultType:
    label: str
    rule: str  # the rule that lists it after the import
    stored: bool = True  # False: the register's own data shows it, the rule reads it there


FAULT_TYPES: dict[str, FaultType] = {
    IdFault.CHECKSUM: FaultType("证件号码校验位错误", "DQ_ID_CHECKSUM"),
    IdFault.EXCEL_NUMBER: FaultType("证件号码被Excel存成数字（末尾数字已丢失）", "DQ_ID_EXCEL_DAMAGED"),
    IdFault.EXCEL_TRUNCATED: FaultType("证件号码疑似被Excel截断（末三位为000）", "DQ_ID_EXCEL_DAMAGED"),
    IdFault.INVALID: FaultType("证件号码无效（长度、字符或出生日期不对）", "DQ_ID_INVALID"),
    IdFault.MISSING: FaultType("证件号码为空", "DQ_ID_INVALID"),
    IdFault.OLD15: FaultType("15位旧证件号码（已按国家标准转换为18位）", "DQ_ID_OLD15"),
    FaultKind.PHONE: FaultType("联系电话不是手机号码或固定电话", "DQ_PHONE_INVALID"),
    FaultKind.UNKNOWN: FaultType("取值不在该列的取值范围内", "DQ_VALUE_UNKNOWN"),
    FaultKind.MISSING: FaultType("必填项为空", "DQ_VALUE_UNKNOWN"),
    FaultKind.HOUSEHOLD_MISMATCH: FaultType(
        "同一户各行的户级信息不一致（按第一行导入）", "DQ_HOUSEHOLD_INCONSISTENT"
    ),
    FaultKind.DUPLICATE: FaultType("同一人出现在两个户中（未迁移，保留原户）", "DQ_DUPLICATE_PERSON"),
    FaultKind.MISMATCH_BIRTH: FaultType("出生日期与证件号码不一致", "DQ_BIRTH_ID", stored=False),
    FaultKind.HEAD_COUNT: FaultType("家庭没有户主或有多个户主", "DQ_HEAD_COUNT", stored=False),
    FaultKind.EXTRA_HEAD: FaultType("一户有多个户主（第一个登记为户主，其余待核实）", "DQ_HEAD_COUNT"),
    FaultKind.HEAD_REPLACED: FaultType("新文件另列户主，原户主未列出（待核实）", "DQ_HEAD_COUNT"),
}

# An ID with one of these faults is listed for correction (证件号码待修正): the village enters the
# true number from the 户口簿. A converted 15-digit number is exact and needs no correction.
CORRECTABLE_ID_FAULTS = {
    IdFault.CHECKSUM,
    IdFault.EXCEL_NUMBER,
    IdFault.EXCEL_TRUNCATED,
    IdFault.INVALID,
    IdFault.MISSING,
}
ID_COLUMN = "证件号码"
RELATION_COLUMN = "与户主关系"
DUPLICATE_KEY = "重复人员"  # the value_faults key of a person met in a second household


def label(kind: str) -> str:
    return FAULT_TYPES[kind].label if kind in FAULT_TYPES else kind
