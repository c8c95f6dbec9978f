"""`fangpin demo`: build the demo county, import it through the user's import path, create one
demo user per role and print their logins."""

from __future__ import annotations

import sys
import time
from collections.abc import Collection
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from fangpin.accounts.actions import create_user
from fangpin.accounts.models import User
from fangpin.accounts.roles import Department, Role
from fangpin.audit.context import acting_as
from fangpin.jobs.actions import run_job
from fangpin.regions.actions import load_region_file
from fangpin.regions.models import Region
from fangpin.registry.actions import queue_import_path
from fangpin.registry.models import Household

from . import joint, monitoring, socialaid
from .accounting import load_expenditures
from .faults import IMPORT_FAULT_RULES
from .generator import COUNTY, TOWNSHIPS, DemoFiles, write_demo_files

DEMO_PASSWORD = "Demo@2026fp"


def demo_users() -> list[dict[str, str]]:
    """One login per role, placed in the first township and its first village."""
    township_code = f"{COUNTY[0][:6]}{TOWNSHIPS[0][0]}000"
    village = Region.objects.filter(parent__code=township_code).order_by("code").first()
    village_code = village.code if village else ""
    return [
        {
            "username": "xian_admin",
            "role": Role.COUNTY_ADMIN,
            "region_code": COUNTY[0],
            "full_name": "县管理员",
        },
        {
            "username": "xian_staff",
            "role": Role.COUNTY_STAFF,
            "region_code": COUNTY[0],
            "full_name": "县业务员",
        },
        {
            "username": "zhen_gujiang",
            "role": Role.TOWNSHIP,
            "region_code": township_code,
            "full_name": "古绛镇业务员",
        },
        {
            "username": "cun_demo",
            "role": Role.VILLAGE,
            "region_code": village_code,
            "full_name": "村级工作队",
        },
        {
            "username": "bangfu_demo",
            "role": Role.CADRE,
            "region_code": village_code,
            "full_name": "帮扶责任人",
        },
        {"username": "bangfu_02", "role": Role.CADRE, "region_code": village_code, "full_name": "帮扶干部王"},
        {"username": "bangfu_03", "role": Role.CADRE, "region_code": village_code, "full_name": "帮扶干部李"},
        {
            "username": "dept_yibao",
            "role": Role.DEPARTMENT,
            "department": Department.MEDICAL,
            "full_name": "医保局数据员",
        },
        {
            "username": "dept_minzheng",
            "role": Role.DEPARTMENT,
            "department": Department.CIVIL,
            "full_name": "民政局数据员",
        },
        {"username": "dudao", "role": Role.SUPERVISOR, "region_code": COUNTY[0], "full_name": "省督导组"},
        {"username": "sys_admin", "role": Role.SYSTEM_ADMIN, "full_name": "系统管理员"},
        {"username": "sec_admin", "role": Role.SECURITY_ADMIN, "full_name": "安全管理员"},
        {"username": "audit_admin", "role": Role.AUDIT_ADMIN, "full_name": "审计管理员"},
    ]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _import(path: Path, user: User) -> None:
    from fangpin.cli import run_with_progress

    job = run_with_progress(
        queue_import_path(user=user, path=path, year=None, confirmed=True).pk, f"导入 {path.name}"
    )
    _say(f"  {job.message}")
    if job.status != "succeeded":
        raise SystemExit(f"示范数据导入失败：{job.message}；{job.problems[:5]}")


def _load_rosters(files: DemoFiles, user: User) -> None:
    """Through the officer's path: upload, the proposed column mapping, import."""
    from django.core.files import File

    from fangpin.feeds.actions import confirm_mapping, upload
    from fangpin.feeds.models import Roster

    work_dir = Path(settings.MEDIA_ROOT) / "rosters"
    work_dir.mkdir(parents=True, exist_ok=True)
    period = files.rosters[0].path.stem.split("_")[1] if files.rosters else ""
    for roster_file in files.rosters:
        with acting_as(user, source="cli"), open(roster_file.path, "rb") as fh:
            header = upload(user=user, kind=roster_file.kind, source=roster_file.source, period=period,
                            hashed_ids=False, file=File(fh, name=roster_file.path.name), work_dir=work_dir)  # fmt: skip
            run_job(header.pk)  # the worker's header reading, run here
            roster = Roster.objects.get(pk=header.params["roster"])
            job = confirm_mapping(user=user, roster=roster, mapping=roster.mapping)
        job = run_job(job.pk)
        _say(f"  {roster.get_kind_display()}：{job.message}")


def _rectification(county: User, township: User) -> None:
    """The provincial supervision group's feedback of the seed page (2024-10-09), item by item, in every state."""
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile

    from fangpin.rectification import actions as ledger

    def evidence(name: str) -> SimpleUploadedFile:  # a real PDF: evidence is checked by its content
        from fangpin.demo.monitoring import sample_pdf

        return SimpleUploadedFile(name, sample_pdf())

    today = timezone.localdate()
    with acting_as(county, source="cli"):
        batch = ledger.create_batch(user=county, name=f"{today.year - 2}年省乡村振兴督导组反馈问题", source="supervision",
                                    region=county.region, received_on=dt.date(today.year - 2, 10, 9))  # fmt: skip
        town = township.region
        spec = [
            ("部分监测户风险类型为因病但无健康帮扶措施，帮扶措施与风险不匹配", "帮扶措施", town, "古绛镇人民政府",
             "逐户核对风险与措施，补齐健康帮扶", "DQ_MEASURE_FOR_ILLNESS", 60),
            ("驻村工作队入户走访、信息采集不到位，部分户信息与实际不符", "驻村帮扶", town, "古绛镇人民政府",
             "开展集中排查，户户到、人人访", "", -20),
            ("个别脱贫户住房为危房但未纳入监测", "应纳未纳", town, "古绛镇人民政府",
             "住建部门鉴定后及时纳入并落实住房安全保障", "DQ_POVERTY_HOUSEHOLD_IN_DANGEROUS_HOUSE", 30),
            ("易地扶贫搬迁后续扶持中搬迁群众就业帮扶不充分", "搬迁后扶", county.region, "县人社局",
             "开展技能培训，落实就业岗位", "", -5),
            ("产业帮扶项目资产后续管理台账不全", "项目资产", county.region, "县农业农村局",
             "建立项目资产台账，明确管护责任", "", 90),
            ("部分监测对象未参加基本医疗保险", "政策落实", county.region, "县医保局",
             "与医保数据比对，动员参保并落实缴费补贴", "DQ_MEDICAL_NONE", 45),
        ]  # fmt: skip
        items = [
            ledger.add_item(user=county, batch=batch, description=d, category=c, region=r, responsible_unit=u,
                            responsible_person="", measures=m, rule_id=rule, deadline=today + dt.timedelta(days=days))
            for d, c, r, u, m, rule, days in spec
        ]  # fmt: skip
    with acting_as(township, source="cli"):
        ledger.report_progress(user=township, item=items[0], note="已核对本镇全部因病监测户，正在补齐措施")
        ledger.extend_to_scope(user=township, item=items[0])
        ledger.report_progress(
            user=township, item=items[2], note="已纳入监测", upload=evidence("纳入监测审批表.pdf")
        )
        ledger.apply_for_closure(user=township, item=items[2], result="已全部纳入监测并落实危房改造")
    with acting_as(county, source="cli"):
        ledger.report_progress(
            user=county, item=items[3], note="培训搬迁劳动力120人次", upload=evidence("培训签到表.pdf")
        )
        ledger.apply_for_closure(user=county, item=items[3], result="新增就业86人")
        ledger.close(user=county, item=items[3], note="核查属实，同意销号")
        ledger.report_progress(user=county, item=items[4], note="台账初稿", upload=evidence("资产台账.pdf"))
        ledger.apply_for_closure(user=county, item=items[4], result="台账已建立")
        ledger.return_item(user=county, item=items[4], reason="台账缺少管护责任人和收益分配记录，请补充")
    _say(f"  整改台账：{batch.name}，{len(items)}项问题（待整改、整改中、申请销号、已销号、退回各有）")


def _screen(user: User) -> None:
    from fangpin.cli import run_with_progress
    from fangpin.jobs.actions import create_job
    from fangpin.jobs.models import Kind

    job = create_job(kind=Kind.SCREENING, user=user, params={"as_of": "", "engine": "duckdb"})
    job = run_with_progress(job.pk, "筛查")
    _say(f"  {job.message}")


def load_county(files: DemoFiles) -> User:
    """The county's files through the users' paths: the region table, the demo logins, last year's and
    this year's national exports, the villages' 收支核算 (rigid expenditure), then the department rosters.
    Returns the county administrator."""
    with acting_as(None, source="cli"):
        result = load_region_file(files.regions)
    _say(f"  行政区划：新增 {result.created}，未变 {result.unchanged}")
    admin = _ensure_users()["xian_admin"]
    for path in files.register_files:
        _import(path, admin)
    if files.expenditures:
        with acting_as(admin, source="cli"):
            count = load_expenditures(files.expenditures, admin)
        _say(f"  收支核算：{files.expenditures.name}，{count:,}户的刚性支出")
    _load_rosters(files, admin)
    return admin


def build_demo(
    *,
    people: int,
    seed: int,
    out_dir: str = "",
    force: bool = False,
    import_faults: Collection[str] = IMPORT_FAULT_RULES,
) -> int:
    """Writes the county with its seeded faults (truth.csv beside the files), imports it through the users'
    paths, screens it, and adds the monitoring work of the demo logins' village."""
    started = time.monotonic()
    out = Path(out_dir) if out_dir else Path(settings.DATA_DIR) / "demo"
    today = timezone.localdate()
    year = today.year - 1
    if Household.objects.exists() and not force:
        _say("台账中已有数据，跳过生成和导入（如需重建请加 --force 或删除数据目录）。")
    else:
        _say(f"生成示范县 {COUNTY[1]}（{COUNTY[0][:6]}），约 {people:,} 人，随机种子 {seed} ……")
        files = write_demo_files(
            out, people=people, seed=seed, year=year, today=today, import_faults=import_faults
        )
        _say(
            f"  已写出 {files.households:,} 户 {files.people:,} 人：{files.members.name}、{files.monitoring.name}"
            f"（{time.monotonic() - started:.0f} 秒）；预设问题 {files.seeded} 处，见 {files.truth.name if files.truth else ''}"
        )
        admin = load_county(files)
        _screen(admin)
        users = _ensure_users()
        _rectification(admin, users["zhen_gujiang"])
        monitoring.build(
            admin,
            users["zhen_gujiang"],
            users["cun_demo"],
            [users["bangfu_demo"], users["bangfu_02"], users["bangfu_03"]],
        )
        # the 2026 joint work: 转介民政 with 民政's decisions, the demo village's 分类评估
        joint.build(users["xian_staff"], users["zhen_gujiang"], users["cun_demo"], users["dept_minzheng"])
        # 民政's list last: it is written from the register as the cases left it
        seeded = socialaid.load(users["dept_minzheng"], out, seed=seed)
        _say(f"  民政低收入人口名单：两边都有{len(seeded.both)}户，仅本平台监测{len(seeded.fangpin_only)}户")
    users = _ensure_users()
    _say(f"示范县已就绪（用时 {time.monotonic() - started:.0f} 秒）。演示账号（密码均为 {DEMO_PASSWORD}）：")
    for spec in demo_users():
        user = users[spec["username"]]
        print(f"  {user.role_label:<10} {user.username:<14} {user.region or ''}")
    return 0


def _ensure_users() -> dict[str, User]:
    users = {}
    with acting_as(None, source="cli"):
        for spec in demo_users():
            user = User.objects.filter(username=spec["username"]).first()
            if user is None:
                user = create_user(password=DEMO_PASSWORD, **spec)
            users[user.username] = user
    return users
