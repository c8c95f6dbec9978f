"""Roles of DESIGN.md and what each may do. One table, read by `User.can`."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", "县级管理员"
    COUNTY_STAFF = "county_staff", "县级业务员"
    DEPARTMENT = "department", "部门数据员"
    TOWNSHIP = "township", "乡镇业务员"
    VILLAGE = "village", "村级/驻村工作队"
    CADRE = "cadre", "帮扶责任人"
    SUPERVISOR = "supervisor", "督导（只读）"
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"


class Department(models.TextChoices):
    MEDICAL = "医保", "医保局"
    CIVIL = "民政", "民政局"
    DISABLED = "残联", "残联"
    EDUCATION = "教育", "教育局"
    POLICE = "公安", "公安局"
    HOUSING = "住建", "住建局"
    EMERGENCY = "应急", "应急管理局"
    LABOUR = "人社", "人社局"
    FINANCE = "财政", "财政局（资产比对）"


# 三员分立: the three separated administrators. Their accounts are created, changed, disabled and given
# new passwords only on the server's command line (`fangpin user`), never through the system
# administrator's pages, so no administrator can grant themselves, or anyone, a second duty.
SEPARATED_ADMINS = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}
# what the system administrator assigns on the user pages: every business role
MANAGED_ROLES = [role for role in Role if role not in SEPARATED_ADMINS]

REGISTER_ROLES = {
    Role.COUNTY_ADMIN,
    Role.COUNTY_STAFF,
    Role.TOWNSHIP,
    Role.VILLAGE,
    Role.CADRE,
    Role.SUPERVISOR,
}

# Capabilities: the verbs views and the API check. The three separated administrators (三员分立)
# hold none of the register capabilities.
CAPABILITIES: dict[str, set[Role]] = {
    "view_register": REGISTER_ROLES,
    "reveal_sensitive": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF, Role.TOWNSHIP, Role.VILLAGE},
    "export_register": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF, Role.TOWNSHIP, Role.VILLAGE, Role.SUPERVISOR},
    "export_full_ids": {Role.COUNTY_ADMIN},
    "import_register": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF},
    "manage_regions": {Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN},
    "run_screening": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF},
    "verify_warnings": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF, Role.TOWNSHIP, Role.VILLAGE},
    "open_cases": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF, Role.TOWNSHIP, Role.VILLAGE},
    # a paired cadre reports what they find at the door (干部排查), from the web or the phone
    "report_clues": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF, Role.TOWNSHIP, Role.VILLAGE, Role.CADRE},
    "correct_ids": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF, Role.TOWNSHIP, Role.VILLAGE},
    "view_rectification": {
        Role.COUNTY_ADMIN,
        Role.COUNTY_STAFF,
        Role.TOWNSHIP,
        Role.VILLAGE,
        Role.SUPERVISOR,
    },
    "work_rectification": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF, Role.TOWNSHIP, Role.VILLAGE},
    "review_rectification": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF},
    "upload_rosters": {Role.DEPARTMENT, Role.COUNTY_ADMIN, Role.COUNTY_STAFF},
    "view_all_rosters": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF},
    # the 民政 low-income list (socialaid): uploaded by 民政's data officer (the department is checked in
    # socialaid.actions) or the county; compared on the page of those who see the register
    "manage_social_aid": {Role.DEPARTMENT, Role.COUNTY_ADMIN, Role.COUNTY_STAFF},
    # 转介民政 (2026 joint intake, monitoring.referral): the verifier refers; 民政's data officer (the
    # department is checked in monitoring.referral) and the county record 民政's decision back
    "refer_to_civil_affairs": {Role.COUNTY_ADMIN, Role.COUNTY_STAFF, Role.TOWNSHIP, Role.VILLAGE},
    "record_civil_affairs_outcome": {Role.DEPARTMENT, Role.COUNTY_ADMIN, Role.COUNTY_STAFF},
    "view_referrals": REGISTER_ROLES | {Role.DEPARTMENT},
    "manage_rules": {Role.COUNTY_ADMIN},
    "manage_users": {Role.SYSTEM_ADMIN},
    "manage_security": {Role.SECURITY_ADMIN},
    "view_audit": {Role.AUDIT_ADMIN},
}
