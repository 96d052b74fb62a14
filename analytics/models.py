"""Analytics tables of the spec: the activity and login logs, the pre-aggregated tables,
referrals and their rewards."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from analytics.choices import ActivityType, HoldStatus, LoginMethod, ReferralStatus, RewardStatus, RewardType
from customer_ops import db
from customer_ops.choices import ServiceType
from customer_ops.personal_data import ENUM, SCRUB, Export, Identifier, Keep, PersonalData, Scope
from customer_ops.write_rules import append_only, never_update, touch


class ActivityLog(db.RuleBoundModel):
    """``customer_activity_log``: every customer activity. An immutable log."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="activities", db_index=False
    )
    activity_type = models.TextField(choices=ActivityType.choices)
    activity_description = models.TextField(blank=True, default="", db_default="")
    service_type = models.TextField(choices=ServiceType.choices, null=True, blank=True)
    order = models.ForeignKey(
        "customer_ops.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="activities", db_index=False
    )
    device_id = models.TextField(blank=True, default="", db_default="")
    ip_address = models.TextField(blank=True, default="", db_default="")
    location_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    location_lon = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    activity_metadata = models.JSONField(default=dict, db_default={}, blank=True)
    created_at = db.created_at()

    personal_data = PersonalData(
        fields={
            "device_id": Scope.DEVICES_NETWORK,
            "ip_address": Scope.DEVICES_NETWORK,
            "location_lat": Scope.ACTIVITY_LOCATION,
            "location_lon": Scope.ACTIVITY_LOCATION,
            "activity_description": Scope.ACTIVITY_LOCATION,
            "activity_metadata": Scope.ACTIVITY_LOCATION,
        },
        text={"activity_type": ENUM, "service_type": ENUM},
        identifiers={"device_id": Identifier.DEVICE, "ip_address": Identifier.IP},
        export=Export(
            columns=(
                "id customer_id activity_type activity_description service_type order_id device_id "
                "ip_address location_lat location_lon activity_metadata created_at"
            )
        ),
    )

    class Meta:
        db_table = "customer_activity_log"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(activity_type__regex=r"^[A-Z][A-Z0-9_]*$"),
                name="customer_activity_log_activity_type_code",
                violation_error_message="activity_type must be an UPPER_SNAKE_CASE code such as APP_OPEN.",
            ),
            db.enum_check("customer_activity_log", "service_type", ServiceType, null=True),
            db.range_check("customer_activity_log", "location_lat", -90, 90),
            db.range_check("customer_activity_log", "location_lon", -180, 180),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="activity_log_customer_idx"),
            # Daily jobs (app opens per day) and the admin's default ordering.
            models.Index(fields=["-created_at", "-id"], name="activity_log_created_idx"),
            models.Index(fields=["order"], name="activity_log_order_idx", condition=models.Q(order__isnull=False)),
            # Linked accounts: who else used this device or IP.
            models.Index(fields=["device_id"], name="activity_log_device_idx", condition=~models.Q(device_id="")),
            models.Index(fields=["ip_address"], name="activity_log_ip_idx", condition=~models.Q(ip_address="")),
            # The daily job (who was active each day, and their app opens): an index-only scan
            # of one day's rows.
            models.Index(fields=["created_at", "customer"], include=["activity_type"], name="activity_log_daily_idx"),
            # The admin's service filter in its default ordering (a partitioned index).
            models.Index(fields=["service_type", "-created_at", "-id"], name="activity_log_service_idx"),
            db.filter_index("activity_type", "activity_log_type_idx"),
            # The trust engine's payment failures per customer: an index-only range scan of a
            # batch of customers (fraud.jobs), where the type index reads a million heap rows.
            models.Index(
                fields=["customer"],
                name="activity_log_pay_failed_idx",
                condition=models.Q(activity_type="PAYMENT_FAILED"),
            ),
        ]
        triggers = [*append_only()]

    def __str__(self) -> str:
        return f"{self.activity_type} by customer {self.customer_id}"


class LoginHistory(db.RuleBoundModel):
    """``customer_login_history``: every login attempt. An immutable log."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="logins", db_index=False
    )
    login_method = models.TextField(choices=LoginMethod.choices)
    login_success = models.BooleanField()
    device_id = models.TextField(blank=True, default="", db_default="")
    device_type = models.TextField(blank=True, default="", db_default="")
    device_model = models.TextField(blank=True, default="", db_default="")
    ip_address = models.TextField(blank=True, default="", db_default="")
    ip_location = models.TextField(blank=True, default="", db_default="")
    user_agent = models.TextField(blank=True, default="", db_default="")
    failure_reason = models.TextField(blank=True, default="", db_default="")
    session = models.ForeignKey(
        "customer_ops.CustomerSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="logins",
        db_index=False,
    )
    created_at = db.created_at()

    personal_data = PersonalData(
        fields={
            "device_id": Scope.DEVICES_NETWORK,
            "device_model": Scope.DEVICES_NETWORK,
            "ip_address": Scope.DEVICES_NETWORK,
            "ip_location": Scope.ACTIVITY_LOCATION,
            "user_agent": Scope.DEVICES_NETWORK,
        },
        text={"login_method": ENUM, "device_type": SCRUB, "failure_reason": SCRUB},
        identifiers={
            "device_id": Identifier.DEVICE,
            "ip_address": Identifier.IP,
            "user_agent": Identifier.USER_AGENT,
        },
        export=Export(
            columns=(
                "id customer_id login_method login_success device_id device_type device_model ip_address "
                "ip_location user_agent failure_reason session_id created_at"
            )
        ),
    )

    class Meta:
        db_table = "customer_login_history"
        verbose_name_plural = "login history"
        ordering = ["-created_at", "-id"]
        constraints = [db.enum_check("customer_login_history", "login_method", LoginMethod)]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="login_history_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="login_history_created_idx"),
            models.Index(
                fields=["session"], name="login_history_session_idx", condition=models.Q(session__isnull=False)
            ),
            models.Index(fields=["device_id"], name="login_history_device_idx", condition=~models.Q(device_id="")),
            models.Index(fields=["ip_address"], name="login_history_ip_idx", condition=~models.Q(ip_address="")),
            # The admin's list filters in its default ordering (partitioned indexes).
            db.filter_index("login_success", "login_history_success_idx"),
            db.filter_index("login_method", "login_history_method_idx"),
            db.filter_index("device_type", "login_history_device_type_idx"),
        ]
        triggers = [*append_only()]

    def __str__(self) -> str:
        outcome = "success" if self.login_success else "failure"
        return f"Login {outcome} for customer {self.customer_id}"


class DailyAnalytics(db.RuleBoundModel):
    """``customer_daily_analytics``: pre-aggregated daily metrics per customer (UTC days)."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="daily_analytics", db_index=False
    )
    analytics_date = models.DateField()
    total_orders = models.IntegerField(default=0, db_default=0)
    completed_orders = models.IntegerField(default=0, db_default=0)
    cancelled_orders = models.IntegerField(default=0, db_default=0)
    food_orders = models.IntegerField(default=0, db_default=0)
    parcel_orders = models.IntegerField(default=0, db_default=0)
    ride_orders = models.IntegerField(default=0, db_default=0)
    total_spent = db.money(default=0, db_default=0)
    total_saved = db.money(default=0, db_default=0)
    tips_given = db.money(default=0, db_default=0)
    avg_rating_given = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    ratings_count = models.IntegerField(default=0, db_default=0)
    app_opens = models.IntegerField(default=0, db_default=0)
    time_spent_minutes = models.IntegerField(default=0, db_default=0)
    created_at = db.created_at()
    updated_at = db.updated_at()

    personal_data = PersonalData(
        keep_rows="Aggregate metrics with no personal columns.",
        export=Export(
            columns=(
                "id customer_id analytics_date total_orders completed_orders cancelled_orders food_orders "
                "parcel_orders ride_orders total_spent total_saved tips_given avg_rating_given "
                "ratings_count app_opens time_spent_minutes created_at updated_at"
            )
        ),
    )

    class Meta:
        db_table = "customer_daily_analytics"
        verbose_name_plural = "daily analytics"
        ordering = ["-analytics_date", "customer_id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "analytics_date"], name="customer_daily_analytics_unique"),
            *[
                db.range_check("customer_daily_analytics", f, low=0)
                for f in (
                    "total_orders",
                    "completed_orders",
                    "cancelled_orders",
                    "food_orders",
                    "parcel_orders",
                    "ride_orders",
                    "total_spent",
                    "total_saved",
                    "tips_given",
                    "ratings_count",
                    "app_opens",
                    "time_spent_minutes",
                )
            ],
            db.range_check("customer_daily_analytics", "avg_rating_given", 1, 5),
        ]
        indexes = [
            models.Index(fields=["analytics_date"], name="daily_analytics_date_idx"),
            # The default ordering (the admin's list): newest day first, then customer.
            models.Index(fields=["-analytics_date", "customer"], name="daily_analytics_ordering_idx"),
        ]
        triggers = [never_update("customer", "analytics_date", "created_at"), touch()]

    def __str__(self) -> str:
        return f"Customer {self.customer_id} on {self.analytics_date}"


class ServiceAnalytics(db.RuleBoundModel):
    """``customer_service_analytics``: lifetime metrics per customer and service."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="service_analytics", db_index=False
    )
    service_type = models.TextField(choices=ServiceType.choices)
    total_orders = models.IntegerField(default=0, db_default=0)
    completed_orders = models.IntegerField(default=0, db_default=0)
    cancelled_orders = models.IntegerField(default=0, db_default=0)
    cancellation_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0, db_default=0)
    total_spent = db.money(default=0, db_default=0)
    average_order_value = db.money(null=True, blank=True)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    avg_days_between_orders = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    avg_rating_given = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    ratings_given_count = models.IntegerField(default=0, db_default=0)
    favorite_merchant_ids = ArrayField(models.BigIntegerField(), blank=True, default=list, db_default=[])
    last_updated_at = db.updated_at()
    created_at = db.created_at()

    personal_data = PersonalData(
        text={"service_type": ENUM, "favorite_merchant_ids": Keep("merchant ids (numbers), not the customer's")},
        keep_rows="Aggregate metrics with no personal columns.",
        export=Export(
            columns=(
                "id customer_id service_type total_orders completed_orders cancelled_orders "
                "cancellation_rate total_spent average_order_value first_order_at last_order_at "
                "avg_days_between_orders avg_rating_given ratings_given_count favorite_merchant_ids "
                "last_updated_at created_at"
            )
        ),
    )

    class Meta:
        db_table = "customer_service_analytics"
        verbose_name_plural = "service analytics"
        ordering = ["customer_id", "service_type"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "service_type"], name="customer_service_analytics_unique"),
            db.enum_check("customer_service_analytics", "service_type", ServiceType),
            db.range_check("customer_service_analytics", "cancellation_rate", 0, 100),
            db.range_check("customer_service_analytics", "avg_rating_given", 1, 5),
        ]
        indexes = [
            # The dashboard's cohorts: customers whose first order falls in the chosen weeks.
            models.Index(fields=["first_order_at"], name="service_analytics_first_idx"),
            db.filter_index("service_type", "service_analytics_service_idx", ordering=["customer"]),
        ]
        triggers = [never_update("customer", "service_type", "created_at"), touch("last_updated_at")]

    def __str__(self) -> str:
        return f"Customer {self.customer_id}, {self.service_type}"


class OrdersSummary(db.RuleBoundModel):
    """``customer_orders_summary``: quick order totals per customer and service."""

    customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="order_summaries", db_index=False
    )
    service_type = models.TextField(choices=ServiceType.choices)
    total_orders = models.IntegerField(default=0, db_default=0)
    total_spent = db.money(default=0, db_default=0)
    average_order_value = db.money(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    favorite_merchant_id = models.BigIntegerField(null=True, blank=True)
    created_at = db.created_at()
    updated_at = db.updated_at()

    personal_data = PersonalData(
        text={"service_type": ENUM},
        keep_rows="Aggregate metrics with no personal columns.",
        export=Export(
            columns=(
                "id customer_id service_type total_orders total_spent average_order_value last_order_at "
                "favorite_merchant_id created_at updated_at"
            )
        ),
    )

    class Meta:
        db_table = "customer_orders_summary"
        verbose_name_plural = "orders summaries"
        ordering = ["customer_id", "service_type"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "service_type"], name="customer_orders_summary_unique"),
            db.enum_check("customer_orders_summary", "service_type", ServiceType),
            db.range_check("customer_orders_summary", "total_orders", low=0),
        ]
        indexes = [db.filter_index("service_type", "orders_summary_service_idx", ordering=["customer"])]
        triggers = [never_update("customer", "service_type", "created_at"), touch()]

    def __str__(self) -> str:
        return f"Customer {self.customer_id}, {self.service_type}"


class Referral(db.RuleBoundModel):
    """``customer_referrals``: who referred whom, and the progress towards the reward."""

    referrer_customer = models.ForeignKey(
        "customer_ops.Customer", on_delete=models.PROTECT, related_name="referrals_made"
    )
    referred_customer = models.OneToOneField("customer_ops.Customer", on_delete=models.PROTECT, related_name="referral")
    referral_code = models.TextField()
    referral_status = models.TextField(
        choices=ReferralStatus.choices, default=ReferralStatus.PENDING, db_default=ReferralStatus.PENDING
    )
    referrer_reward_amount = db.money(null=True, blank=True)
    referrer_reward_type = models.TextField(choices=RewardType.choices, null=True, blank=True)
    referrer_reward_given = models.BooleanField(default=False, db_default=False)
    referrer_reward_given_at = models.DateTimeField(null=True, blank=True)
    referred_reward_amount = db.money(null=True, blank=True)
    referred_reward_type = models.TextField(choices=RewardType.choices, null=True, blank=True)
    referred_reward_given = models.BooleanField(default=False, db_default=False)
    referred_reward_given_at = models.DateTimeField(null=True, blank=True)
    required_orders = models.IntegerField(default=1, db_default=1)
    completed_orders = models.IntegerField(default=0, db_default=0)
    completion_deadline = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = db.created_at()
    updated_at = db.updated_at()

    personal_data = PersonalData(
        text={
            "referral_code": SCRUB,
            "referral_status": ENUM,
            "referrer_reward_type": ENUM,
            "referred_reward_type": ENUM,
        },
        customer_path="referred_customer",
        keep_rows="Financial record of rewards owed; the referral code is not personal.",
        export=Export(
            columns=(
                "id referred_customer_id referral_code referral_status referred_reward_amount "
                "referred_reward_type referred_reward_given referred_reward_given_at required_orders "
                "completed_orders completion_deadline completed_at created_at updated_at"
            ),
            withheld="The referrer is another customer: their id and reward (art. 15(4)).",
        ),
    )

    class Meta:
        db_table = "customer_referrals"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_referrals", "referral_status", ReferralStatus),
            db.enum_check("customer_referrals", "referrer_reward_type", RewardType, null=True),
            db.enum_check("customer_referrals", "referred_reward_type", RewardType, null=True),
            db.range_check("customer_referrals", "referrer_reward_amount", low=0),
            db.range_check("customer_referrals", "referred_reward_amount", low=0),
            db.range_check("customer_referrals", "required_orders", low=1),
            db.range_check("customer_referrals", "completed_orders", low=0),
            models.CheckConstraint(
                condition=~models.Q(referrer_customer=models.F("referred_customer")),
                name="customer_referrals_not_self",
                violation_error_message="A customer cannot refer themselves.",
            ),
        ]
        indexes = [
            models.Index(fields=["referral_status", "completion_deadline"], name="referrals_status_idx"),
            # The admin's exact-key search and list filters.
            models.Index(fields=["-created_at", "-id"], name="referrals_created_idx"),  # the admin list's order
            models.Index(fields=["referral_code"], name="referrals_code_idx"),
            db.filter_index("referrer_reward_given", "referrals_referrer_given_idx"),
            db.filter_index("referred_reward_given", "referrals_referred_given_idx"),
        ]
        triggers = [never_update("referrer_customer", "referred_customer", "created_at"), touch()]

    def __str__(self) -> str:
        return f"{self.referral_code}: {self.referrer_customer_id} → {self.referred_customer_id}"


class ReferralReward(db.RuleBoundModel):
    """``customer_referral_rewards``: the history of referral rewards given."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="rewards", db_index=False)
    customer = models.ForeignKey("customer_ops.Customer", on_delete=models.PROTECT, related_name="referral_rewards")
    reward_type = models.TextField(choices=RewardType.choices)
    reward_amount = db.money()
    reward_status = models.TextField(
        choices=RewardStatus.choices, default=RewardStatus.PENDING, db_default=RewardStatus.PENDING
    )
    coupon_code = models.TextField(blank=True, default="", db_default="")
    wallet_transaction_id = models.BigIntegerField(null=True, blank=True)
    points_transaction_id = models.BigIntegerField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    created_at = db.created_at()

    personal_data = PersonalData(
        text={"reward_type": ENUM, "reward_status": ENUM, "coupon_code": SCRUB},
        keep_rows="Financial record: rewards paid are kept for accounting.",
        export=Export(
            columns=(
                "id referral_id customer_id reward_type reward_amount reward_status coupon_code "
                "wallet_transaction_id points_transaction_id processed_at created_at"
            )
        ),
    )

    class Meta:
        db_table = "customer_referral_rewards"
        ordering = ["-created_at", "-id"]
        constraints = [
            db.enum_check("customer_referral_rewards", "reward_type", RewardType),
            db.enum_check("customer_referral_rewards", "reward_status", RewardStatus),
            db.range_check("customer_referral_rewards", "reward_amount", low=0),
            # One reward per side of a referral, never two (the referral job relies on it).
            models.UniqueConstraint(fields=["referral", "customer"], name="customer_referral_rewards_one_per_side"),
        ]
        indexes = [
            models.Index(fields=["reward_status", "created_at"], name="referral_rewards_status_idx"),
            # The admin's exact-key search and list filter.
            models.Index(fields=["-created_at", "-id"], name="referral_rewards_created_idx"),  # the admin list's order
            models.Index(fields=["coupon_code"], name="referral_rewards_coupon_idx"),
            db.filter_index("reward_type", "referral_rewards_type_idx"),
        ]
        triggers = [never_update("referral", "customer", "reward_amount", "created_at")]

    def __str__(self) -> str:
        return f"{self.reward_type} {self.reward_amount} to customer {self.customer_id}"


class RewardHold(models.Model):
    """A referral reward held back for the fraud team (a table of this project, not the spec's).

    The referral job holds a reward when its referrer and referred customer share a device
    id or an IP address (:func:`analytics.selectors.shared_signals`). The reward stays
    PENDING until a fraud analyst releases it (it then goes to the reward system) or fails
    it (:mod:`analytics.services`). ``shared_signals`` is the evidence shown to the analyst.
    """

    Status = HoldStatus

    reward = models.OneToOneField(ReferralReward, on_delete=models.PROTECT, related_name="hold")
    shared_signals = models.JSONField(default=dict, blank=True)
    status = models.TextField(choices=HoldStatus.choices, default=HoldStatus.HELD, db_default=HoldStatus.HELD)
    decided_by = db.staff("decided_by")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, default="", db_default="")
    created_at = db.created_at()

    personal_data = PersonalData(
        fields={"shared_signals": Scope.DEVICES_NETWORK},
        text={"status": ENUM, "decision_reason": SCRUB},
        customer_path="reward__customer",
        keep_rows="Record of a fraud decision on a reward; the device ids and IPs are redacted.",
        export=Export(
            columns="id reward_id status decided_at created_at",
            withheld="shared_signals (device ids and IPs shared with other accounts: other customers' data and fraud "
            "evidence), decision_reason (fraud prevention) and decided_by_id (staff, art. 15(4)).",
        ),
    )

    class Meta:
        db_table = "analytics_reward_hold"
        ordering = ["-created_at", "-id"]
        constraints = [db.enum_check("analytics_reward_hold", "status", HoldStatus)]
        # The fraud team's queue: undecided holds, oldest first.
        indexes = [
            models.Index(fields=["status", "created_at"], name="reward_hold_status_idx"),
            models.Index(fields=["-created_at", "-id"], name="reward_hold_created_idx"),  # the admin list's order
        ]

    def __str__(self) -> str:
        return f"Hold on reward {self.reward_id} ({self.status})"


class PlatformDaily(models.Model):
    """``analytics_platform_daily``: the whole platform's orders per UTC day and service (a
    table of this project, not the spec's), so that the dashboard reads 30 rows per service
    instead of 30 days of orders. Filled by :func:`analytics.jobs.run_platform_daily`; the
    metrics follow ARCHITECTURE.md, "Metric definitions" (an order belongs to the day and
    service of its ``created_at`` and ``service_type``)."""

    day = models.DateField()
    service_type = models.TextField(choices=ServiceType.choices)
    total_orders = models.IntegerField(default=0, db_default=0)
    completed_orders = models.IntegerField(default=0, db_default=0)
    cancelled_orders = models.IntegerField(default=0, db_default=0)
    total_spent = db.money(default=0, db_default=0)  # order_amount of the completed orders
    updated_at = db.updated_at()

    # No personal_data declaration: platform-wide counts, no customer column (nothing to erase or export).

    class Meta:
        db_table = "analytics_platform_daily"
        verbose_name_plural = "platform daily figures"
        ordering = ["-day", "service_type"]
        constraints = [
            models.UniqueConstraint(fields=["day", "service_type"], name="platform_daily_unique"),
            db.enum_check("analytics_platform_daily", "service_type", ServiceType),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.service_type}"


class PlatformHourly(models.Model):
    """``analytics_platform_hourly``: the platform's orders per UTC hour and service, the
    same metrics as :class:`PlatformDaily`, kept by triggers on ``orders`` (migration
    0069_platform_hourly) so that the dashboard's live days (``RAW_DAYS``) read at most
    48 rows per service instead of every order of those days.

    Triggers rather than a job: an order's status moves (completed, cancelled) at any time,
    and a job would leave the page either stale or reading the orders since its last run;
    statement-level triggers add each statement's net change once, so the figures equal the
    plain count of the orders at every commit. Rows whose figures all fall to zero are
    deleted. Written only by those triggers."""

    hour = models.DateTimeField()  # the UTC hour's start
    service_type = models.TextField(choices=ServiceType.choices)
    total_orders = models.IntegerField(default=0, db_default=0)
    completed_orders = models.IntegerField(default=0, db_default=0)
    cancelled_orders = models.IntegerField(default=0, db_default=0)
    total_spent = db.money(default=0, db_default=0)  # order_amount of the completed orders

    # No personal_data declaration: platform-wide counts, no customer column (nothing to erase or export).

    class Meta:
        db_table = "analytics_platform_hourly"
        verbose_name_plural = "platform hourly figures"
        ordering = ["-hour", "service_type"]
        constraints = [
            models.UniqueConstraint(fields=["hour", "service_type"], name="platform_hourly_unique"),
            db.enum_check("analytics_platform_hourly", "service_type", ServiceType),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.service_type}"


# --- the dashboard's cohorts (tables of this project, not the spec's) -----------------------

COHORT_WEEKS = 8  # weeks after the first order's week that the retention matrix shows
ALL_SERVICES = "ALL"  # service_type of the cohort rows over every service (the dashboard's "")
COHORT_SERVICES = [*ServiceType.values, ALL_SERVICES]
COHORT_SERVICE_CHOICES = [*ServiceType.choices, (ALL_SERVICES, "All services")]


def _cohort_service_check(table: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(service_type__in=COHORT_SERVICES),
        name=f"{table}_service_type_valid",
        violation_error_message=f"service_type must be one of {', '.join(COHORT_SERVICES)}.",
    )


class CohortDaily(models.Model):
    """``analytics_cohort_daily``: the dashboard's retention matrix, per first-order day.

    ``customers`` with ``k = 0`` is the number of customers whose first order (of
    ``service_type``, or of any service for ``ALL``; ``customer_service_analytics.first_order_at``)
    was on ``first_order_day``; with ``k = 1..COHORT_WEEKS``, how many of them ordered (that
    service, ``customer_daily_analytics``) in the k-th week after the UTC week of that day.
    A customer has one first-order day per service, so the rows of a range of days add up
    to the cohorts of that range. Rows with no customers are not stored. Filled by
    :func:`analytics.jobs.run_cohorts`; read by :func:`analytics.dashboard.cohort_retention`.
    """

    first_order_day = models.DateField()
    service_type = models.TextField(choices=COHORT_SERVICE_CHOICES)
    k = models.SmallIntegerField()
    customers = models.IntegerField()
    updated_at = db.updated_at()

    # No personal_data declaration: counts per day, no customer column.

    class Meta:
        db_table = "analytics_cohort_daily"
        verbose_name_plural = "cohort daily figures"
        ordering = ["-first_order_day", "service_type", "k"]
        constraints = [
            # Service first: also the dashboard's index (one service, a range of days).
            models.UniqueConstraint(fields=["service_type", "first_order_day", "k"], name="cohort_daily_unique"),
            _cohort_service_check("analytics_cohort_daily"),
            db.range_check("analytics_cohort_daily", "k", 0, COHORT_WEEKS),
            db.range_check("analytics_cohort_daily", "customers", low=1),
        ]

    def __str__(self) -> str:
        return f"{self.first_order_day} {self.service_type} week {self.k}"


class CohortActivity(models.Model):
    """``analytics_cohort_activity``: the dashboard's referred-versus-organic comparison.

    What the customers whose first order (as in :class:`CohortDaily`) was on
    ``first_order_day``, split by ``referred`` (a ``customer_referrals`` row names them as
    the referred customer), did on ``day``: ``customers`` first ordered (on that day),
    ``returned`` ordered for the first time in a week after their first order's week,
    ``orders`` (any service) and ``refunds`` (refund requests) they placed, and ``alerted``
    had a fraud alert. Every figure but ``alerted`` adds up over both days, so the
    dashboard sums the rows whose two days fall in the range. A customer alerted on several
    days of a range counts once, on the first of them: the alert day whose
    ``previous_alert_day`` (the customer's previous alert day, null if none) is before the
    range. Days more than a range's length (``analytics.filters.MAX_DAYS``) from the
    first-order day are not stored. Filled by :func:`analytics.jobs.run_cohorts`.
    """

    service_type = models.TextField(choices=COHORT_SERVICE_CHOICES)
    referred = models.BooleanField()
    first_order_day = models.DateField()
    day = models.DateField()
    previous_alert_day = models.DateField(null=True, blank=True)
    customers = models.IntegerField(default=0, db_default=0)
    returned = models.IntegerField(default=0, db_default=0)
    orders = models.IntegerField(default=0, db_default=0)
    refunds = models.IntegerField(default=0, db_default=0)
    alerted = models.IntegerField(default=0, db_default=0)
    updated_at = db.updated_at()

    # No personal_data declaration: counts per day, no customer column.

    class Meta:
        db_table = "analytics_cohort_activity"
        verbose_name_plural = "cohort activity figures"
        ordering = ["-first_order_day", "service_type", "day"]
        constraints = [
            # Also the dashboard's index: one service, a range of first-order days.
            models.UniqueConstraint(
                fields=["service_type", "first_order_day", "day", "referred", "previous_alert_day"],
                name="cohort_activity_unique",
                nulls_distinct=False,
            ),
            _cohort_service_check("analytics_cohort_activity"),
            *[
                db.range_check("analytics_cohort_activity", f, low=0)
                for f in ("customers", "returned", "orders", "refunds", "alerted")
            ],
        ]

    def __str__(self) -> str:
        return f"{self.first_order_day} {self.service_type} on {self.day}"


class Dashboard(DailyAnalytics):
    """The analytics dashboard's admin entry (a proxy: no table of its own).

    Registering it gives the dashboard its admin URL (/admin/analytics/dashboard/), its
    place in the admin index, and a ``view_dashboard`` permission granted to analysts and
    support leads by migration.
    """

    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboard"
        default_permissions = ("view",)


class OrderingCustomers(models.Model):
    """``analytics_ordering_customers``: how many customers ordered on a UTC day (of a
    service, or of any: ``ALL_SERVICES``), by the day of their previous order
    (``previous_day``, null for a first order). A table of this project, not the spec's.

    Distinct customers do not add up across days, but these counts do: a customer who
    ordered in a range has exactly one first order day in it, the one whose previous order
    day is before the range. So the dashboard counts the customers who ordered in a range
    by summing the rows of its days with ``previous_day`` before its first day (or null):
    a few thousand small rows instead of every order of the range. Filled by
    :func:`analytics.jobs.run_ordering_customers` from ``customer_daily_analytics``.
    """

    day = models.DateField()
    service_type = models.TextField(choices=COHORT_SERVICE_CHOICES)
    previous_day = models.DateField(null=True, blank=True)
    customers = models.IntegerField()
    updated_at = db.updated_at()

    # No personal_data declaration: counts only, no customer column.

    class Meta:
        db_table = "analytics_ordering_customers"
        verbose_name_plural = "ordering customers per day"
        ordering = ["-day", "service_type", "previous_day"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_type", "previous_day"],
                name="ordering_customers_unique",
                nulls_distinct=False,
            ),
            _cohort_service_check("analytics_ordering_customers"),
            models.CheckConstraint(
                condition=models.Q(previous_day__lt=models.F("day")), name="ordering_customers_before"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.service_type}: {self.customers} after {self.previous_day or 'none'}"
