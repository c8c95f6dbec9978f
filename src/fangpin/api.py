"""The typed REST API (OpenAPI at /api/openapi.json), under the same scoping and audit as the UI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from csp.decorators import csp_update
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from fangpin.api_scope import register_reader
from fangpin.monitoring.api import router as monitoring_router
from fangpin.registry import actions as registry_actions
from fangpin.registry.filters import HouseholdFilter, keyset_page
from fangpin.registry.models import Household, Member

api = NinjaAPI(
    title="fangpin API",
    version="1",
    description="防止返贫致贫动态监测和帮扶平台接口。所有数据按登录用户的管辖区划范围过滤；证件号码和电话默认脱敏。",
    auth=django_auth,
    urls_namespace="api",
    # Swagger UI sets inline styles; the docs page (no household data on it) may use them.
    docs_decorator=csp_update({"style-src": ["'self'", "'unsafe-inline'"]}),
)


api.add_router("/monitoring", monitoring_router)


class HouseholdOut(Schema):
    id: int
    household_no: str
    region_code: str
    head_name: str
    household_type: str
    monitoring_category: str
    risk_types: list[str]
    risk_eliminated: bool | None
    phone_masked: str
    annual_size: int | None
    income_year: int | None
    per_capita_income: Decimal | None

    @staticmethod
    def resolve_risk_types(obj: Household) -> list[str]:
        return obj.risk_type_list


class HouseholdPage(Schema):
    items: list[HouseholdOut]
    next: str | None
    total: int


class MemberOut(Schema):
    id: int
    household_id: int
    name: str
    id_number_masked: str
    relation: str
    gender: str
    birth_date: dt.date | None
    health: str
    labour_skill: str
    school_status: str
    phone_masked: str


class HouseholdDetail(HouseholdOut):
    members: list[MemberOut]

    @staticmethod
    def resolve_members(obj: Household) -> list[Member]:
        return list(obj.members.order_by("id"))


class HouseholdFilterIn(Schema):
    region: str = ""
    household_type: str = ""
    category: str = ""
    income_band: str = ""
    risk: str = ""
    q: str = ""
    after: str = ""
    limit: int = 50


class Revealed(Schema):
    value: str


@api.get("/households", response=HouseholdPage, tags=["台账"], summary="农户列表（键集分页）")
def list_households(request: HttpRequest, params: Query[HouseholdFilterIn]) -> dict:
    user = register_reader(request)
    queryset = HouseholdFilter.from_params(params.dict()).apply(Household.objects.for_user(user))
    items, cursor = keyset_page(queryset, params.after, max(1, min(params.limit, 500)))
    return {"items": items, "next": cursor or None, "total": queryset.count()}


@api.get("/households/{household_id}", response=HouseholdDetail, tags=["台账"], summary="农户详情及成员")
def get_household(request: HttpRequest, household_id: int) -> Household:
    return get_object_or_404(Household.objects.for_user(register_reader(request)), pk=household_id)


@api.get("/members", response=list[MemberOut], tags=["台账"], summary="某户的家庭成员")
def list_members(request: HttpRequest, household: int) -> list[Member]:
    user = register_reader(request)
    if not 0 < household < 2**63:  # beyond any key: SQLite's driver would raise OverflowError (a 500)
        return []
    return list(Member.objects.for_user(user).filter(household_id=household).order_by("id"))


@api.get("/members/{member_id}", response=MemberOut, tags=["台账"], summary="成员详情")
def get_member(request: HttpRequest, member_id: int) -> Member:
    return get_object_or_404(Member.objects.for_user(register_reader(request)), pk=member_id)


@api.post(
    "/members/{member_id}/reveal/{field}",
    response=Revealed,
    tags=["台账"],
    summary="查看完整证件号码或电话（记入敏感信息查看日志）",
)
def reveal_member(request: HttpRequest, member_id: int, field: str) -> dict:
    if field not in registry_actions.SENSITIVE_FIELDS:
        raise HttpError(404, "未知字段")
    member = get_object_or_404(Member.objects.for_user(register_reader(request)), pk=member_id)
    try:
        return {"value": registry_actions.reveal(user=request.user, obj=member, field=field)}
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
