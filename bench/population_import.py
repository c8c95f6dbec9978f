"""Population import benchmark: a 户籍 file of the demo county's whole population plus extra rural
people, against the same people as a national 户成员信息 file, in the same run.

    .venv/bin/python bench/population_import.py [--source /tmp/demo20k] [--extra 30000]

`--source` is a prepared demo data directory (fangpin demo); it is copied twice and never changed.
One copy takes the 户籍 file: the demo's people are already registered (their national facts stay,
only empty fields are filled), the extra people become 一般农户 households. The other copy takes the
same people as a national 户成员信息 file (the demo's people under their own 户编号, the extra ones
under new ones). Each import runs in its own process with the full product path (header detection,
cell checks, keyed hashes, encryption, audit chain, one all-or-nothing publish).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUJI_HEADER = ["户号", "姓名", "公民身份号码", "与户主关系", "性别", "民族", "出生日期", "户籍地址",
               "所属乡镇/街道", "所属村(居)委会", "户籍类别", "注销状态"]  # fmt: skip
NATIONAL_HEADER = [
    "县",
    "乡",
    "村",
    "户编号",
    "姓名",
    "证件号码",
    "与户主关系",
    "性别",
    "出生日期",
    "民族",
    "户类型",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "建国秀英志强桂芳丽娟海涛明华玉兰俊杰淑珍文静春梅德胜红霞小龙子涵雨轩浩然欣怡"
RELATIONS = ["户主", "配偶", "之子", "之女", "之孙子", "之孙女"]


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _write(path: Path, titles: list[str], header: list[str], rows: list[list[str]]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    for r, title in enumerate(titles):
        sheet.write_string(r, 0, title)
    for r, values in enumerate([header, *rows], start=len(titles)):
        for c, value in enumerate(values):
            if value:
                sheet.write_string(r, c, value)
    workbook.close()


def child_build(out: str, extra: int, seed: int) -> None:
    """Both files from the demo register (IDs decrypted here, in the bench's own copy) and `extra` new
    people in 1–5 person households spread over the county's villages."""
    _setup()
    from fangpin.common.crypto import cipher
    from fangpin.common.idnumber import make_id
    from fangpin.regions.models import Level, Region
    from fangpin.registry.models import Member

    rng = random.Random(seed)
    decrypt, digest = cipher().decrypt, cipher().digest
    villages = list(Region.objects.filter(level=Level.VILLAGE).select_related("parent", "parent__parent"))
    huji: list[list[str]] = []
    national: list[list[str]] = []
    taken: set[str] = set()
    skipped = 0
    people = Member.objects.select_related("household__region__parent__parent").order_by("household_id", "id")
    for m in people.iterator(chunk_size=5000):
        h = m.household
        village, township = h.region, h.region.parent
        county = township.parent.name if township and township.parent else ""
        taken.add(m.id_number_hash)
        if m.id_fault:  # a number the demo keeps damaged: 公安 holds the true one, the bench does not
            skipped += 1
            continue
        id_number = decrypt(m.id_number_enc, "id")[:18]  # a 残疾人证号 is the ID and two digits
        birth = f"{m.birth_date:%Y%m%d}" if m.birth_date else ""
        huji.append([f"{h.pk:09d}", m.name, id_number, m.relation, m.gender, "汉族", birth,
                     f"{township.name}{village.name}", township.name, village.name, "农业家庭户口", "正常"])  # fmt: skip
        national.append([county, township.name, village.name, h.household_no, m.name, id_number, m.relation,
                         m.gender, birth, "汉族", h.household_type])  # fmt: skip
    existing = len(huji)
    address = villages[0].code[:6]
    serial = 900_000_000
    added = 0
    while added < extra:
        serial += 1
        village = rng.choice(villages)
        township = village.parent
        county = township.parent.name if township.parent else ""
        size = min(rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5]), extra - added)
        for i in range(size):
            while True:
                birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(32_000))
                id_number = make_id(address, birth, rng.randrange(1000))
                if (key := digest(id_number, "id")) not in taken:
                    taken.add(key)
                    break
            gender = "男" if int(id_number[16]) % 2 else "女"
            name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
            relation = RELATIONS[min(i, len(RELATIONS) - 1)]
            huji.append([str(serial), name, id_number, relation, gender, "汉族", f"{birth:%Y%m%d}",
                         f"{township.name}{village.name}", township.name, village.name, "农业家庭户口", "正常"])  # fmt: skip
            national.append([county, township.name, village.name, f"N{serial}", name, id_number, relation, gender,
                             f"{birth:%Y%m%d}", "汉族", "一般农户"])  # fmt: skip
        added += size
    target = Path(out)
    _write(
        target / "户籍人口信息.xlsx", ["公安户籍人口信息（农村）", "导出时间：2026-03-02"], HUJI_HEADER, huji
    )
    _write(target / "户成员信息.xlsx", ["（自定义）户成员信息（2025年度）", "导出时间：2026-03-02"],
           NATIONAL_HEADER, national)  # fmt: skip
    print(json.dumps({"existing": existing, "extra": added, "skipped": skipped}))


def child_import(path: str) -> None:
    _setup()
    from fangpin.registry.importer import import_register

    started = time.perf_counter()
    result = import_register(path)
    seconds = time.perf_counter() - started
    assert result.ok, [str(p) for p in result.problems[:5]]
    print(json.dumps({
        "layout": result.layout, "rows": result.rows, "seconds": seconds, "check": result.check_seconds,
        "publish": result.publish_seconds, "households": result.households.as_dict(),
        "members": result.members.as_dict(),
    }))  # fmt: skip


def run(args: list[str], data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"FANGPIN_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default="/tmp/demo20k", help="a prepared demo data directory (copied)")
    parser.add_argument("--extra", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "build":
            child_build(rest[0], int(rest[1]), int(rest[2]))
        else:
            child_import(rest[0])
        return
    work = Path(tempfile.mkdtemp(prefix="fangpin-population-bench-"))
    try:
        huji_dir, national_dir = work / "huji", work / "national"
        shutil.copytree(args.source, huji_dir)
        shutil.copytree(args.source, national_dir)
        print(f"building the files from {args.source} and {args.extra:,} extra people …", flush=True)
        built = run(["build", str(work), str(args.extra), str(args.seed)], huji_dir)
        print(
            f"people: {built['existing']:,} already registered + {built['extra']:,} new "
            f"({built['skipped']:,} registered with a damaged ID left out of both files)"
        )
        huji = run(["import", str(work / "户籍人口信息.xlsx")], huji_dir)
        national = run(["import", str(work / "户成员信息.xlsx")], national_dir)
        for name, r in (("户籍人口信息", huji), ("户成员信息", national)):
            print(
                f"{name} ({r['layout']}): {r['rows']:,} rows in {r['seconds']:.1f} s "
                f"(check {r['check']:.1f} s, publish {r['publish']:.1f} s) = {r['rows'] / r['seconds']:,.0f} rows/s; "
                f"households {r['households']}, people {r['members']}"
            )
        print(
            f"ratio: the 户籍 import takes {huji['seconds'] / national['seconds']:.2f}× the national import's time"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
