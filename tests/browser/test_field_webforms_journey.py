"""The field form in a browser instead of a phone: a 帮扶责任人 gets a Collect token on 手机采集, ODK Web Forms
(the harness in tests/browser/webforms/, built into dist/) renders the very XForm fangpin serves, with the
household list from the manifest's households.csv; the visit (with a photo) is filled with the browser offline
and kept in the page's outbox (nothing reaches the server), then posted to the OpenRosa `submission` URL when the
browser is online again; the village then sees the visit on the household's page, marked 来自手机."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import mimetypes
import urllib.parse
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.cli_helpers import fangpin

DIST = (Path(__file__).parent / "webforms" / "dist").resolve()
HARNESS = "/__webforms__/"  # a path fangpin does not serve: the test answers it from dist/
CADRE = "bangfu_02"  # a demo 帮扶责任人 of the demo village, paired by the demo with some of its households
NOTES = "网页表单离线走访：了解务工收入和孩子上学情况"


def shell(demo_server, code: str) -> dict:
    """A JSON line printed by a `fangpin shell` on the live server's database."""
    return json.loads(fangpin(demo_server["data"], "shell", "-c", code).stdout.strip().splitlines()[-1])


def facts(demo_server, household: str) -> dict:
    return shell(demo_server, (
        "import json; from fangpin.monitoring.models import Visit; from fangpin.registry.models import Household; "
        f"vs = Visit.objects.filter(household_id={int(household)}); "
        "mine = vs.filter(notes=" + repr(NOTES) + ").select_related('field_submission').first(); "
        f"n = Household.objects.filter(pairings__cadre__username={CADRE!r}, pairings__until__isnull=True).count(); "
        "print(json.dumps({'visits': vs.count(), 'paired': n, 'device': mine.field_submission.device_id "
        "if mine and hasattr(mine, 'field_submission') else None}))"))  # fmt: skip


def serve_harness(context, base: str) -> None:
    """dist/ on the fangpin origin (so the page may call the OpenRosa URLs, which send no CORS headers)
    through Playwright's interception: no test route in the product, no second server."""

    def answer(route) -> None:
        name = urllib.parse.urlparse(route.request.url).path.removeprefix(HARNESS) or "index.html"
        file = (DIST / name).resolve()
        if DIST not in file.parents or not file.is_file():
            route.fulfill(status=404, body="")
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=file.read_bytes(), content_type=kind)

    context.route(f"{base}{HARNESS}**", answer)


def test_a_visit_filled_offline_in_web_forms_is_sent_when_online(browser, demo_server, tmp_path):
    base = demo_server["url"]
    assert (DIST / "index.html").is_file(), (
        "build the harness: cd tests/browser/webforms && npm ci && npm run build"
    )
    # the server's day (Asia/Shanghai) is the browser's: the form's "not after today" holds on both sides
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(20000)
    page.base = base
    try:
        # 1. the cadre takes a token on 手机采集 (the page shows the server URL once)
        login(page, CADRE)
        page.goto(base + "/field/")
        page.locator("#issue-token").click()
        server = page.locator("#server-url").inner_text().strip().rstrip("/")
        context.clear_cookies()  # the form talks to the OpenRosa URLs with the token alone
        with urllib.request.urlopen(f"{server}/forms/fangpin_visit/households.csv", timeout=10) as answer:
            households = list(csv.DictReader(io.StringIO(answer.read().decode())))
        household = households[0]
        before = facts(demo_server, household["name"])
        assert len(households) == before["paired"] > 0 and before["device"] is None

        # 2. the harness downloads formList, the XForm and its households.csv while online
        posted = []
        context.on("response", lambda r: posted.append(r.status) if r.url.endswith("/submission") else None)
        serve_harness(context, base)
        page.goto(f"{base}{HARNESS}index.html?" + urllib.parse.urlencode({"server": server}))
        expect(page.locator(".form-initialization-status.ready")).to_be_attached()
        expect(page.get_by_role("heading", name="入户走访")).to_be_visible()

        # 3. offline: fill the visit and send it: it stays in the page's outbox
        context.set_offline(True)
        expect(page.locator("#network")).to_have_text("离线")
        fill_visit(page, households, household)
        photo = tmp_path / "menqian.jpg"  # a real JPEG: a shot of the filled form itself
        photo.write_bytes(page.screenshot(type="jpeg", clip={"x": 0, "y": 0, "width": 320, "height": 240}))
        question(page, "现场照片").locator("input[type=file]").set_input_files(photo)
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator("#outbox-status")).to_contain_text("已保存在本机，待发送 1 份")
        kept = json.loads(page.evaluate("localStorage.getItem('fangpin.webforms.outbox')"))
        assert len(kept) == 1 and kept[0]["instanceId"].startswith("uuid:")
        assert f"<household>{household['name']}</household>" in kept[0]["xml"] and NOTES in kept[0]["xml"]
        assert f"<household_version>{household['__version']}</household_version>" in kept[0]["xml"]
        (kept_photo,) = kept[0]["files"]
        assert f"<photo>{kept_photo['name']}</photo>" in kept[0]["xml"]
        assert posted == [] and facts(demo_server, household["name"])["visits"] == before["visits"]

        # 4. online again: the outbox is posted to `submission` and the server takes it (201)
        context.set_offline(False)
        expect(page.locator("#sent li")).to_have_count(1)
        expect(page.locator("#sent li").first).to_have_attribute("data-status", "201")
        expect(page.locator("#outbox-status")).to_have_text("没有待发送的表单")
        assert posted == [201]
        after = facts(demo_server, household["name"])
        assert after["visits"] == before["visits"] + 1 and after["device"].startswith("getodk.org:webforms:")
        page.screenshot(path=str(demo_server["data"] / "webforms-sent.png"), full_page=True)

        # 5. the village opens the household: the visit is there, marked as coming from a phone
        login(page, "cun_demo")
        page.goto(f"{base}/cases/households/{household['name']}/")
        row = page.locator("tr", has_text=NOTES)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("来自手机")
        expect(row.get_by_role("link", name=kept_photo["name"])).to_be_visible()  # the photo came along
        expect(row).to_contain_text(f"{dt.datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d}")
    finally:
        context.close()


def question(page, label: str):
    """A question of the rendered form, found by its label as a person reads it."""
    return page.locator(".question-container").filter(has=page.locator("label", has_text=label))


def fill_visit(page, households: list[dict[str, str]], household: dict[str, str]) -> None:
    """The household from the list Web Forms built out of households.csv, today's date, the notes."""
    question(page, "走访户").get_by_role("combobox").click()
    options = page.get_by_role("option")
    expect(options).to_have_count(len(households))
    assert options.all_inner_texts() == [h["label"] for h in households]
    page.get_by_role("option", name=household["label"], exact=True).click()
    # the form's calculations read the chosen household's row of the CSV
    expect(page.get_by_text(f"上次走访：{household['last_visit']}")).to_be_visible()
    question(page, "走访日期").locator("input").click()
    page.get_by_role("button", name="Today").click()
    page.get_by_label("走访记录").fill(NOTES)
