"""The categories of 民政's low-income list (categories.toml, or the county's own file named by
FANGPIN_SOCIAL_AID_FILE): their names as 民政 exports write them, and what the register should show for
each. Read once per process; a file that cannot be used is named with the key at fault."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from fangpin.registry.columns import header_key

DEFAULT_FILE = Path(__file__).resolve().parent / "categories.toml"
REGISTER_FIELDS = {"dibao": "是否享受农村居民最低生活保障", "tekun": "是否特困供养人员"}
SEPARATORS = re.compile(r"[、,，;；/／\s]+")


class CategoryFileError(ValueError):
    """The categories file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    synonyms: tuple[str, ...] = ()
    register_field: str = ""  # a Member field (REGISTER_FIELDS) that should be 是 for this category
    conflicts_with_eliminated: bool = True
    expects_no_labour: bool = False


def config_path() -> Path:
    configured = getattr(settings, "FANGPIN_SOCIAL_AID_FILE", "")
    return Path(configured) if configured else DEFAULT_FILE


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[Category, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CategoryFileError(f"民政对象类别文件 {path} 无法读取：{exc}") from exc
    found = []
    for i, item in enumerate(data.get("category", []), start=1):
        if not item.get("name"):
            raise CategoryFileError(f"{path} 第{i}个 [[category]] 缺少 name")
        field = item.get("register_field", "")
        if field and field not in REGISTER_FIELDS:
            raise CategoryFileError(
                f"{path} 类别「{item['name']}」的 register_field 应为 {'、'.join(REGISTER_FIELDS)} 之一"
            )
        found.append(Category(
            name=item["name"], label=item.get("label", item["name"]), synonyms=tuple(item.get("synonyms", ())),
            register_field=field, conflicts_with_eliminated=bool(item.get("conflicts_with_eliminated", True)),
            expects_no_labour=bool(item.get("expects_no_labour", False)),
        ))  # fmt: skip
    if not found:
        raise CategoryFileError(f"{path} 中没有任何 [[category]]")
    return tuple(found)


def categories() -> tuple[Category, ...]:
    return _load(config_path())


def by_name() -> dict[str, Category]:
    return {c.name: c for c in categories()}


def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for category in categories():
        for word in (category.name, *category.synonyms):
            table[header_key(word)] = category.name
    return table


def names_text() -> str:
    return "、".join(c.name for c in categories())


def read_categories(text: str) -> tuple[list[str], list[str]]:
    """The canonical categories a cell names (`低保、临时救助`, `农村低保`), and the words it holds that
    name none (the caller refuses the row)."""
    lookup = _lookup()
    whole = lookup.get(header_key(text))
    if whole:
        return [whole], []
    found: list[str] = []
    unknown: list[str] = []
    for word in (w for w in SEPARATORS.split(text) if w):
        name = lookup.get(header_key(word))
        if name is None:
            unknown.append(word)
        elif name not in found:
            found.append(name)
    return found, unknown
