"""`fangpin roster`: a department's monthly roster loaded from the command line with the column mapping
its source saved at an earlier upload on the web, refused when there is none or the header changed."""

from __future__ import annotations

import getpass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangpin.audit.models import AuditEntry
from fangpin.cli import main
from fangpin.feeds import actions
from fangpin.feeds.models import Roster
from fangpin.jobs.actions import run_job
from tests import builders
from tests.cli_helpers import fangpin
from tests.test_rosters import WANG, medical_rows

pytestmark = pytest.mark.django_db

SOURCE = "县医保局月报"


@pytest.fixture(autouse=True)
def own_files(settings, tmp_path):
    """Each test its own files directory, so that "nothing is kept" can be looked at."""
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def march_on_the_web(register, department_officer, tmp_path):
    """The officer's first upload on the web page: the proposed mapping confirmed and saved for the source."""
    path = builders.write_xlsx(tmp_path / "三月.xlsx", medical_rows())
    file = SimpleUploadedFile(path.name, path.read_bytes())
    header = actions.upload(user=department_officer, kind="medical", source=SOURCE, period="202503",
                            hashed_ids=False, file=file, work_dir=tmp_path)  # fmt: skip
    run_job(header.pk)  # the worker reads the header
    roster = Roster.objects.get(pk=header.params["roster"])
    run_job(actions.confirm_mapping(user=department_officer, roster=roster, mapping=roster.mapping).pk)
    return roster


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def load(capsys, path, *extra: str, kind: str = "medical", source: str = SOURCE) -> tuple[int, str, str]:
    return run_cli(capsys, "roster", "import", str(path), "--kind", kind, "--source", source, "--period", "202504",
                   *extra)  # fmt: skip


def test_a_department_officer_loads_next_months_roster_with_the_saved_mapping(
    march_on_the_web, department_officer, tmp_path, capsys
):
    april = builders.write_csv(tmp_path / "四月.csv", medical_rows())
    code, out, err = load(capsys, april, "--user", "dept_medical")
    assert code == 0, err
    assert "已导入3行：匹配到台账2行，未匹配1行" in out and "按已保存的列对应导入" in err
    roster = Roster.objects.get(period="202504")
    assert (roster.status, roster.uploaded_by, roster.file_name) == (
        "imported",
        department_officer,
        "四月.csv",
    )
    assert roster.mapping == march_on_the_web.mapping and roster.records.filter(member__name="王强").exists()
    created = AuditEntry.objects.get(model="feeds.Roster", object_id=str(roster.pk), action="create")
    assert (created.username, created.source) == ("dept_medical", "cli")
    assert roster in Roster.objects.for_user(department_officer)  # on the officer's own list, like an upload


def test_a_source_without_a_saved_mapping_is_refused_and_nothing_is_kept(
    register, settings, tmp_path, capsys
):
    code, _, err = load(capsys, builders.write_csv(tmp_path / "m.csv", medical_rows()))
    assert code == 1
    assert f"数据来源「{SOURCE}」的医保结算名册还没有保存的列对应" in err and "在网页上" in err
    assert not Roster.objects.exists()
    assert not list((settings.MEDIA_ROOT / "rosters").glob("*"))


def test_a_file_whose_columns_changed_is_refused_with_the_missing_and_unexpected_columns_named(
    march_on_the_web, tmp_path, capsys
):
    rows = medical_rows()
    for row in rows:
        row["个人自付金额"] = row.pop("个人负担")
        row["科室"] = "内科"
    code, _, err = load(capsys, builders.write_csv(tmp_path / "changed.csv", rows))
    assert code == 1 and "文件的表头与数据来源「县医保局月报」保存的列对应不一致，未导入" in err
    assert "缺少已保存列对应中的列：「个人负担」" in err
    assert "该来源此前没有的列：「个人自付金额」、「科室」" in err
    added = [{**row, "科室": "内科"} for row in medical_rows()]  # every saved column there, one more
    code, _, err = load(capsys, builders.write_csv(tmp_path / "added.csv", added))
    assert code == 1 and "该来源此前没有的列：「科室」" in err and "缺少" not in err
    assert list(Roster.objects.values_list("period", flat=True)) == ["202503"]


def test_an_officer_cannot_load_another_departments_roster_and_bad_ids_are_refused_with_the_error_workbook(
    march_on_the_web, tmp_path, capsys
):
    path = builders.write_csv(tmp_path / "m.csv", medical_rows(ids=(WANG, "4.20106E+17")))
    code, _, err = load(capsys, path, "--user", "dept_medical", kind="disability")
    assert code == 1 and "dept_medical 不能上传残联 · 残疾人名册名册" in err
    code, out, _ = load(capsys, path, "--user", "dept_medical")
    assert code == 1 and "未通过校验" in out and "第3行「证件号码」列" in out and "科学计数法" in out
    workbook = out.split("错误说明：")[1].strip()
    assert workbook.endswith("错误说明.xlsx") and Roster.objects.get(period="202504").status == "rejected"


def test_without_a_user_the_roster_is_the_operators_and_only_county_roles_see_it(
    march_on_the_web, department_officer, county_staff, client, tmp_path, capsys
):
    code, _, err = load(capsys, builders.write_csv(tmp_path / "m.csv", medical_rows()))
    assert code == 0, err
    roster = Roster.objects.get(period="202504")
    assert roster.uploaded_by is None
    created = AuditEntry.objects.get(model="feeds.Roster", object_id=str(roster.pk), action="create")
    assert created.username == f"os:{getpass.getuser()}"
    assert roster not in Roster.objects.for_user(department_officer)
    client.force_login(county_staff)
    assert "命令行导入" in client.get(reverse("feeds:list")).content.decode()


def test_the_kinds_and_the_saved_sources_are_listed(register, department_officer, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "roster", "kinds")
    assert code == 0 and "medical" in out and "医保 · 医保结算" in out and "个人自付*" in out
    _, out, _ = run_cli(capsys, "roster", "sources")
    assert "还没有保存的列对应" in out
    file = SimpleUploadedFile("m.xlsx", builders.write_xlsx(tmp_path / "m.xlsx", medical_rows()).read_bytes())
    header = actions.upload(user=department_officer, kind="medical", source=SOURCE, period="202503",
                            hashed_ids=False, file=file, work_dir=tmp_path)  # fmt: skip
    run_job(header.pk)  # the worker reads the header
    roster = Roster.objects.get(pk=header.params["roster"])
    actions.confirm_mapping(user=department_officer, roster=roster, mapping=roster.mapping)
    _, out, _ = run_cli(capsys, "roster", "sources", "--kind", "medical")
    assert SOURCE in out and "dept_medical" in out and "证件号码 ← 「身份证号码」" in out


@pytest.mark.slow
def test_the_real_command_exits_1_with_a_chinese_reason_when_no_mapping_is_saved(tmp_path):
    data = tmp_path / "data"
    fangpin(data, "migrate", "--no-input", "-v0")
    path = builders.write_csv(tmp_path / "m.csv", medical_rows())
    result = fangpin(data, "roster", "import", str(path), "--kind", "medical", "--source", SOURCE, "--period",
                     "202504", check=False)  # fmt: skip
    assert result.returncode == 1 and "还没有保存的列对应" in result.stderr
