"""Rule parameters (versioned by province and effective date), rule switches, screening runs, findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

from fangpin.audit.signals import audited
from fangpin.common.jsonenc import UnicodeJSONEncoder
from fangpin.regions.models import ScopedQuerySet

if TYPE_CHECKING:
    from .catalogue import Rule


@audited()
class RuleParameter(models.Model):
    """One value of a parameter from a date on, for a province ("*" = the default everywhere).
    Rows are never edited: a new value is a new row, so every past run can be explained."""

    name = models.CharField("参数", max_length=64)
    province_code = models.CharField("省份代码", max_length=2, default="*")
    effective_from = models.DateField("生效日期")
    value = models.JSONField("取值", encoder=UnicodeJSONEncoder)
    confirmed = models.BooleanField("已核实", default=False)
    source = models.CharField("依据", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   verbose_name="录入人")  # fmt: skip
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        ordering = ["name", "province_code", "-effective_from", "-id"]
        verbose_name = verbose_name_plural = "规则参数"
        indexes = [models.Index(fields=["name", "province_code", "effective_from"], name="rule_param_lookup")]

    def __str__(self) -> str:
        return f"{self.name}={self.value}（{self.province_code}，{self.effective_from}起）"


@audited(exclude=("changed_at",))
class RuleSetting(models.Model):
    """A county's switch for one rule of the catalogue."""

    rule_id = models.CharField("规则", max_length=64, unique=True)
    enabled = models.BooleanField("启用", default=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rule_id"]
        verbose_name = verbose_name_plural = "规则开关"

    def __str__(self) -> str:
        return f"{self.rule_id}: {'启用' if self.enabled else '停用'}"


# A rule that fires on more than this share of the people (or households) it reads more likely
# misreads a field, or the register holds that field wrong throughout, than it finds real cases: the
# catalogue marks it. A county may set FANGPIN_RULE_SUSPECT_SHARE (a fraction: 0.01 is 1%).
DEFAULT_SUSPECT_SHARE = 0.01
SUSPECT_LABEL = "疑似规则或数据问题"


def suspect_share() -> float:
    return float(getattr(settings, "FANGPIN_RULE_SUSPECT_SHARE", DEFAULT_SUSPECT_SHARE))


def threshold_text(threshold: float) -> str:
    return f"{threshold * 100:g}%"  # 0.01 → 1%, 0.005 → 0.5%


def percent(share: float) -> str:
    """A share as officials write it, one decimal: 0.3%; a share that rounds to nothing but is not
    nothing reads <0.1%, so one finding among many people is not shown as 0.0%."""
    if 0 < share < 0.0005:
        return "<0.1%"
    return f"{share * 100:.1f}%"


@dataclass(frozen=True)
class RuleHealth:
    """How much of the register one rule fired on in one run: its findings against the people or
    households of the run's snapshot. For the 部门预警 rules, which read rosters, the denominator is
    still the register's people or households."""

    rule_id: str
    level: str  # "person" or "household", as in the rule's TOML
    found: int
    read: int | None  # people or households in the snapshot; None for runs that did not count them
    threshold: float

    @property
    def unit(self) -> str:
        return "人" if self.level == "person" else "户"

    @property
    def share(self) -> float | None:
        return self.found / self.read if self.read else None

    @property
    def share_text(self) -> str:
        return "—" if self.share is None else percent(self.share)

    @property
    def threshold_text(self) -> str:
        return threshold_text(self.threshold)

    @property
    def suspect(self) -> bool:
        return self.share is not None and self.share > self.threshold

    @property
    def explanation(self) -> str:
        """The mark's tooltip: what the county should look at."""
        checked = f"被检查{'人数' if self.level == 'person' else '户数'}{self.read or 0:,}"
        return (
            f"命中{self.found:,}{self.unit}，占{checked}的{self.share_text}，超过{self.threshold_text}："
            "请核对规则是否误读了字段，或台账该项数据是否整体有误"
        )


class ScreeningRun(models.Model):
    """One run of the catalogue over a snapshot of the register."""

    engine = models.CharField("引擎", max_length=16)
    as_of = models.DateField("筛查基准日")
    province_code = models.CharField("省份代码", max_length=2)
    regime = models.CharField("政策口径", max_length=16, blank=True)  # fangpin.regimes code of as_of
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    people = models.PositiveIntegerField("人数", default=0)
    households = models.PositiveIntegerField("户数", default=0)  # 0 for runs before rule health was kept
    rule_counts = models.JSONField("各规则发现数", default=dict, encoder=UnicodeJSONEncoder)
    seconds = models.FloatField("用时（秒）", null=True, blank=True)
    parameters = models.JSONField("参数取值", default=dict, encoder=UnicodeJSONEncoder)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = verbose_name_plural = "筛查批次"

    def __str__(self) -> str:
        return f"筛查 #{self.pk}（{self.as_of}，{self.engine}）"

    @property
    def found(self) -> int:
        return sum(self.rule_counts.values())

    def read_by(self, level: str) -> int | None:
        """The people or households of this run's snapshot: what a rule of that level reads."""
        count = self.people if level == "person" else self.households
        return count or None

    def health(self, rule: Rule, threshold: float | None = None) -> RuleHealth | None:
        """None when the rule did not run in this run."""
        if rule.id not in self.rule_counts:
            return None
        return RuleHealth(
            rule_id=rule.id,
            level=rule.level,
            found=self.rule_counts[rule.id],
            read=self.read_by(rule.level),
            threshold=suspect_share() if threshold is None else threshold,
        )

    def suspects(self, rules: list[Rule] | tuple[Rule, ...]) -> list[RuleHealth]:
        """The rules of this run that fired on more than the threshold, the widest first."""
        threshold = suspect_share()
        healths = [self.health(rule, threshold) for rule in rules]
        found = [h for h in healths if h is not None and h.suspect]
        return sorted(found, key=lambda h: (-(h.share or 0), h.rule_id))


WARNING_FAMILIES = ("部门预警", "收入监测")
# outcomes that say the warning was right: precision counts them against all recorded outcomes
TRUE_OUTCOMES = ("confirmed", "already_helped")


@audited(exclude=("updated_at",))
class Finding(models.Model):
    """What one rule found about one household (or person) for one period. Re-runs update it;
    a data-quality finding no longer found is marked 已消除, never deleted. Findings of the warning
    families are 预警线索: the village verifies them, which closes them for that period."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        CLEARED = "cleared", "已消除"
        VERIFIED = "verified", "已核实"

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", "确认有风险"
        NO_RISK = "no_risk", "经核实无风险"
        WRONG_PERSON = "wrong_person", "非本人"
        ALREADY_HELPED = "already_helped", "已在帮扶"

    rule_id = models.CharField("规则", max_length=64)
    rule_version = models.CharField("规则版本", max_length=12)
    family = models.CharField("类别", max_length=8)
    severity = models.CharField("严重程度", max_length=4)
    household = models.ForeignKey("registry.Household", models.CASCADE, related_name="findings")
    member = models.ForeignKey(
        "registry.Member", models.CASCADE, null=True, blank=True, related_name="findings"
    )
    region_code = models.CharField("区划代码", max_length=12)
    period = models.CharField("期间", max_length=8, blank=True)
    message = models.CharField("说明", max_length=500)
    evidence = models.JSONField("证据", default=dict, encoder=UnicodeJSONEncoder)
    parameters = models.JSONField("参数取值", default=dict, encoder=UnicodeJSONEncoder)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField("核实结果", max_length=16, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField("核实情况", max_length=500, blank=True)
    outcome_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="核实人")  # fmt: skip
    outcome_at = models.DateTimeField("核实时间", null=True, blank=True)
    first_run = models.ForeignKey(ScreeningRun, models.PROTECT, related_name="+")
    last_run = models.ForeignKey(ScreeningRun, models.PROTECT, related_name="+")
    created_at = models.DateTimeField("发现时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["region_code", "rule_id", "id"]
        verbose_name = verbose_name_plural = "筛查发现"
        constraints = [
            # "not raised twice": one finding per rule, household (or person) and period; two partial
            # constraints because SQLite cannot treat NULL members as equal in one
            models.UniqueConstraint(
                fields=["rule_id", "household", "period"],
                condition=models.Q(member__isnull=True),
                name="finding_once_per_household_period",
            ),
            models.UniqueConstraint(
                fields=["rule_id", "member", "period"],
                condition=models.Q(member__isnull=False),
                name="finding_once_per_person_period",
            ),
        ]
        indexes = [
            models.Index(fields=["region_code", "status", "family"], name="finding_scope_status"),
            models.Index(fields=["rule_id", "status"], name="finding_rule_status"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}：{self.message}"

    def audit_household_id(self) -> int:
        return self.household_id

    def audit_region_code(self) -> str:
        return self.region_code

    @property
    def is_warning(self) -> bool:
        return self.family in WARNING_FAMILIES
