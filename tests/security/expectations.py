"""Who may open which admin URL: ARCHITECTURE.md's role matrix plus each workflow's rights.

Transcribed by hand from ARCHITECTURE.md ("Roles and what they may see") and from the
workflows of the consoles (tickets, refunds, disputes, fraud, compliance, analytics),
independently of the migrations that grant the permissions, so a wrong grant or a missing
server-side check fails ``test_permission_walk.py``. Every URL pattern registered on the
admin site must have an entry here: a new view without one fails the walk.

Personas: the six groups by their keys, ``norole`` (staff without a group: sees nothing)
and ``superuser`` (everything the admin classes allow at all).
"""

from __future__ import annotations

from dataclasses import dataclass

A, L, F, G, C, N = "agent", "lead", "fraud", "legal", "compliance", "analyst"
FL = "fraud_lead"  # holds every right of a fraud analyst (customer_ops.roles.INCLUDES), and more
S = "superuser"
NOROLE = "norole"
EVERYONE = frozenset({A, L, F, FL, G, C, N, S, NOROLE})


def _including(personas) -> frozenset[str]:
    """The personas, and the fraud lead wherever the fraud analyst is."""
    personas = frozenset(personas)
    return personas | {FL} if F in personas else personas


@dataclass(frozen=True)
class Rule:
    """``ok`` for the personas in ``allowed``, ``denied`` for everyone else."""

    allowed: frozenset[str]
    ok: int = 200
    denied: int = 403

    def status(self, persona: str) -> int:
        return self.ok if persona in self.allowed else self.denied


def only(*personas: str, ok: int = 200, denied: int = 403) -> Rule:
    return Rule(_including(personas) | {S}, ok, denied)


def everyone(status: int) -> Rule:
    return Rule(EVERYONE, status, status)


def nobody(status: int = 403) -> Rule:
    return Rule(frozenset(), status, status)


@dataclass(frozen=True)
class Rights:
    """Which personas may view / add / change / delete a model in the admin. The superuser
    views everything; its add/change/delete are listed, since many admins refuse them to
    everyone (logs, workflow records)."""

    view: frozenset[str]
    add: frozenset[str] = frozenset()
    change: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()


def rights(view=(), add=(), change=(), delete=()) -> Rights:
    return Rights(_including(view) | {S}, _including(add), _including(change), _including(delete))


ALL6 = (A, L, F, G, C, N)
SU = (S,)
SU_ALL = {"add": SU, "change": SU, "delete": SU}

# "app_label.model_name" -> rights (ARCHITECTURE.md's matrix; write rights per workflow).
MODEL_RIGHTS: dict[str, Rights] = {
    # customers and orders: everyone views (analysts masked); only a superuser edits the stand-ins.
    "customer_ops.customer": rights(ALL6, **SU_ALL),
    "customer_ops.order": rights(ALL6, **SU_ALL),
    "customer_ops.customersession": rights((F, C), **SU_ALL),  # fraud evidence, data export
    # support console: tickets change only through the ticket page's workflow URLs.
    "tickets.ticket": rights((A, L, F, G, C)),
    "tickets.ticketmessage": rights((A, L, F, G)),
    "tickets.internalnote": rights((A, L, F, G)),
    "tickets.macro": rights((A, L), add=(L, S), change=(L, S), delete=(L, S)),  # canned replies, kept by leads
    "tickets.slaescalation": rights((A, L)),
    "tickets.refundrequest": rights((A, L, F, G), add=(A, L, S)),  # raise; approval has its own URLs
    "tickets.dispute": rights((A, L, F, G, C), add=(G, S), change=(G, S), delete=SU),  # legal works disputes
    # fraud console
    "fraud.trustscore": rights((A, L, F, N)),
    "fraud.fraudalert": rights((F,)),
    "fraud.block": rights((A, L, F, G), add=(F, S)),  # lifted through its own URL, never edited
    "fraud.suspiciousactivity": rights((F,)),
    "fraud.listentry": rights((F,), add=(F, S)),  # added with its backtest, never edited
    "fraud.verificationhistory": rights((A, L, F, C)),
    # analytics
    "analytics.activitylog": rights((A, L, F, C, N)),
    "analytics.loginhistory": rights((F, C)),
    "analytics.dailyanalytics": rights((A, L, F, N)),
    "analytics.serviceanalytics": rights((A, L, F, N)),
    "analytics.orderssummary": rights((A, L, F, N)),
    "analytics.referral": rights((A, L, F, N), **SU_ALL),
    "analytics.referralreward": rights((A, L, F, N), delete=SU),
    "analytics.rewardhold": rights((F,), change=(F, S)),  # the fraud team's release/fail queue
    "analytics.dashboard": rights((L, N)),
    # compliance
    "compliance.consentlog": rights((A, L, G, C)),  # recorded through its own URL
    "compliance.datadeletionrequest": rights((C,), add=(C, S)),
    "compliance.accessrequest": rights((C,), add=(C, S)),
    "compliance.auditlog": rights((L, F, G, C)),
    "compliance.accesslog": rights((C,)),
    # accounts, sign-in protection and 2FA devices: superusers only.
    "auth.group": rights((), **SU_ALL),
    "auth.user": rights((), **SU_ALL),
    "axes.accessattempt": rights((), delete=SU),  # delete = unlock
    "axes.accesslog": rights((), delete=SU),
    "axes.accessfailurelog": rights((), delete=SU),
    # devices: administrators see who has one, never a secret; no add/change/delete (people
    # enrol themselves, resets go through second_factor_reset with a reason)
    "otp_totp.totpdevice": rights(()),
    "otp_static.staticdevice": rights(()),
    # the service API's clients, tokens and call log: the administrator's alone (api/admin.py);
    # tokens are issued from their client, revoked, never deleted; the log is read-only
    "api.apiclient": rights((), **SU_ALL),
    "api.apitoken": rights(()),
    "api.apicall": rights(()),
    # webhook subscriptions: added and edited by the administrator, "deleted" by an action (the
    # row stays for its deliveries); deliveries are the worker's, replayed by an action
    "api.webhooksubscription": rights((), add=SU, change=SU),
    "api.webhookdelivery": rights(()),
    # the systems an erasure was sent to: compliance reads them, waives by an action
    "compliance.erasurerecipient": rights((C,)),
}


def model_urls(label: str, r: Rights) -> dict[str, dict[str, Rule]]:
    """The stock ModelAdmin URLs of a model, from its rights."""
    app, model = label.split(".")
    viewers = r.view | r.change
    see = Rule(viewers)
    return {
        f"{app}_{model}_changelist": {"GET": see},
        f"{app}_{model}_add": {"GET": Rule(r.add)},
        f"{app}_{model}_change": {"GET": see},
        f"{app}_{model}_history": {"GET": see},
        f"{app}_{model}_delete": {"GET": Rule(r.delete)},
        # the old-style "<id>/" URL redirects any staff member to the change page
        f"{app}/{model}/<path:object_id>/": {"GET": everyone(302)},
    }


def history_urls(label: str) -> dict[str, dict[str, Rule]]:
    """django-simple-history's "view a past version" page: viewers read it; a POST (revert)
    is refused to everyone (changes go through the services)."""
    app, model = label.split(".")
    viewers = MODEL_RIGHTS[label].view
    return {f"{app}_{model}_simple_history": {"GET": Rule(viewers), "POST": nobody()}}


def post_only(*personas: str, ok: int = 200) -> dict[str, Rule]:
    """A workflow URL that takes POST only: GET is 405 for everyone; an empty POST is a
    form error (``ok``) for the allowed personas, 403 for the others."""
    return {"GET": everyone(405), "POST": only(*personas, ok=ok)}


def form_page(*personas: str) -> dict[str, Rule]:
    """A workflow form page: GET shows it, an empty POST re-shows it with errors."""
    return {"GET": only(*personas), "POST": only(*personas)}


WORKERS = (A, L)  # agents work their own and unassigned tickets, leads any

CUSTOM: dict[str, dict[str, Rule]] = {
    # --- the admin site ---------------------------------------------------------------
    "index": {"GET": everyone(200)},  # a role-less staff member sees an empty index
    "login": {"GET": everyone(302)},  # already signed in: on to the index
    "logout": {"GET": everyone(405)},  # POST only (Django 5); not posted by the walk
    "password_change": {"GET": everyone(200)},
    "password_change_done": {"GET": everyone(200)},
    "jsi18n": {"GET": everyone(200)},
    "autocomplete": {"GET": only(A, L, F, G, C)},  # customers, from an order's form; analysts: 403 (names)
    "view_on_site": {"GET": everyone(404)},  # no public site
    "app_list": {},  # per app, from MODEL_RIGHTS (see walk)
    "catch_all": {"GET": everyone(404)},
    # --- customers, orders: the analysts' recorded reveal of one masked field ----------
    "customer_ops_customer_reveal": {"GET": nobody(), "POST": only(N)},
    "customer_ops_order_reveal": {"GET": nobody(), "POST": only(N)},
    # The activity log's device ids and IP addresses are masked for analysts too.
    "analytics_activitylog_reveal": {"GET": nobody(), "POST": only(N)},
    # --- tickets --------------------------------------------------------------------
    "tickets_ticket_take_next": post_only(*WORKERS, ok=302),
    "tickets_ticket_reply": post_only(A, L),
    "tickets_ticket_note": post_only(A, L),
    "tickets_ticket_take": post_only(*WORKERS),
    "tickets_ticket_assign": post_only(L),
    "tickets_ticket_priority": post_only(*WORKERS),
    "tickets_ticket_resolve": post_only(*WORKERS),
    "tickets_ticket_reopen": post_only(*WORKERS),
    "tickets_ticket_rate": {"GET": nobody(), "POST": nobody()},  # the customer's rating: no staff member records it
    "tickets_ticket_follow_up": post_only(*WORKERS, ok=302),  # an empty form clears the follow-up date
    "tickets_ticket_close": post_only(L),
    "tickets_ticket_merge": post_only(*WORKERS),  # a lead, or the agent owning both (the service checks)
    "tickets_ticket_split": post_only(*WORKERS),
    # the ticket page's heartbeat: whoever may open the ticket; an empty POST names no seen ids
    "tickets_ticket_team_report": {"GET": only(L)},  # the lead's team report
    "tickets_ticket_presence": {"GET": everyone(405), "POST": only(A, L, F, G, C, ok=400)},
    "tickets_ticket_export": {"GET": only(L)},  # leads export the queue
    # personal queue views: whoever may open the queue; only the owner's own (the walk's
    # id is nobody's view: 404); an empty POST is a form error
    "tickets_ticket_save_view": post_only(A, L, F, G, C),
    "tickets_ticket_saved_view": {"GET": only(A, L, F, G, C, ok=404), "POST": only(A, L, F, G, C, ok=404)},
    "tickets_ticket_delete_view": {"GET": everyone(405), "POST": only(A, L, F, G, C, ok=404)},
    **history_urls("tickets.ticket"),
    # --- refunds: agents raise (the add URL), leads approve/reject and process --------
    "tickets_refund_approve": post_only(L),
    "tickets_refund_reject": post_only(L),
    "tickets_refund_process": post_only(L),
    "tickets_refund_complete": post_only(L),
    **history_urls("tickets.refundrequest"),
    # --- disputes: legal works them; everyone who views them sees the deadline list ----
    "tickets_dispute_action_required": {"GET": only(A, L, F, G, C)},
    "tickets_dispute_transition": form_page(G),
    "tickets_dispute_export": {"GET": only(A, L, F, G, C)},  # without the legal columns but for legal
    **history_urls("tickets.dispute"),
    # --- fraud ----------------------------------------------------------------------
    "fraud_fraudalert_action": form_page(F),
    "fraud_fraudalert_resolve": form_page(F),
    # the review queues: take next claims (then the alert's page), the lead reassigns
    "fraud_fraudalert_take_next": post_only(F, ok=302),
    "fraud_fraudalert_reassign": form_page(FL),
    "fraud_fraudalert_precision": {"GET": only(F)},
    "fraud_suspiciousactivity_take_next": post_only(F, ok=302),
    "fraud_suspiciousactivity_reassign": form_page(FL),
    "fraud_fraudalert_import": {"GET": only(F)},
    "fraud_fraudalert_process_import": {"GET": everyone(405), "POST": only(F)},
    **history_urls("fraud.fraudalert"),
    "fraud_block_lift": form_page(F),
    **history_urls("fraud.block"),
    "fraud_suspiciousactivity_review": form_page(F),
    "fraud_suspiciousactivity_raise_alert": form_page(F),
    "fraud_suspiciousactivity_import": {"GET": only(F)},
    "fraud_suspiciousactivity_process_import": {"GET": everyone(405), "POST": only(F)},
    **history_urls("fraud.suspiciousactivity"),
    "fraud_trustscore_recalculate_all": post_only(F, ok=302),
    "fraud_trustscore_recalculate_customer": post_only(F, ok=302),
    "fraud_trustscore_confirm": form_page(F),
    "fraud_trustscore_clear": form_page(F),
    **history_urls("fraud.trustscore"),
    # --- analytics: exports follow view rights; the fraud team decides held rewards -----
    "analytics_dailyanalytics_export": {"GET": only(A, L, F, N)},
    "analytics_serviceanalytics_export": {"GET": only(A, L, F, N)},
    "analytics_orderssummary_export": {"GET": only(A, L, F, N)},
    "analytics_referral_export": {"GET": only(A, L, F, N)},
    "analytics_referralreward_export": {"GET": only(A, L, F, N)},
    "analytics_rewardhold_decide": form_page(F),
    # --- compliance -----------------------------------------------------------------
    "compliance_consentlog_record": form_page(C),
    "compliance_deletion_approve": {"GET": only(C, ok=302), "POST": only(C, ok=302)},
    "compliance_deletion_reject": form_page(C),
    # POST only (the download is recorded); the walk approved the request just before, so it
    # is queued: no certificate yet, back to the page
    "compliance_deletion_certificate": post_only(C, ok=302),
    "compliance_access_approve": {"GET": only(C, ok=302), "POST": only(C, ok=302)},
    "compliance_access_reject": form_page(C),
    # identity verification and the deadline's extension (compliance.dsr_admin): form pages
    "compliance_deletion_verify": form_page(C),
    "compliance_deletion_extend": form_page(C),
    "compliance_access_verify": form_page(C),
    "compliance_access_extend": form_page(C),
    "compliance_auditlog_trail": {"GET": only(L, F, G, C)},
    "compliance_customer_export": post_only(C),  # right of access: the zip (POST: it records the download)
    # --- two-factor sign-in: the code pages need a pending sign-in (else back to the login
    # page), everyone has their own page, leads and administrators reset others' ----------
    "second_factor_verify": {"GET": everyone(302)},
    "second_factor_enrol": {"GET": everyone(302)},
    # an empty POST names no action: 400 (the walk's personas have no app, so no fresh code is due)
    "second_factor_account": {"GET": everyone(200), "POST": everyone(400)},
    "second_factor_reset": {"GET": only(L), "POST": only(L)},
    # the fresh code before changing a second factor; without an app: back to one's own page
    "second_factor_confirm": {"GET": everyone(302), "POST": everyone(302)},
    # --- 2FA devices and accounts (superusers) ---------------------------------------
    "otp_totp_totpdevice_config": {"GET": nobody()},  # another person's key: nobody
    "otp_totp_totpdevice_qrcode": {"GET": nobody()},
    "auth_user_password_change": {"GET": only()},
}


def expectations() -> dict[str, dict[str, Rule]]:
    table: dict[str, dict[str, Rule]] = {}
    for label, r in MODEL_RIGHTS.items():
        table.update(model_urls(label, r))
    table.update(CUSTOM)
    return table


# Admin actions of the change lists (changelist POST with action=...): who gets each.
# ``delete_selected`` follows the model's delete right.
ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    "tickets.ticket": {
        "assign_to_me": only(*WORKERS).allowed,
        "close_selected": only(L).allowed,
        "bulk_assign": only(L).allowed,  # assigning to someone else is a lead's
        "bulk_priority": only(*WORKERS).allowed,
        "bulk_note": only(*WORKERS).allowed,
        "bulk_resolve": only(*WORKERS).allowed,
    },
    "fraud.fraudalert": {"resolve_selected": only(FL).allowed},  # bulk decisions: the lead's right
    "fraud.block": {"lift_selected": only(F).allowed},
    "fraud.trustscore": {"recalculate_selected": only(F).allowed},
    "axes.accessattempt": {"cleanup_expired_attempts": only().allowed},
    "api.apiclient": {"issue_token": only().allowed},
    "api.apitoken": {"revoke_selected": only().allowed, "rotate_selected": only().allowed},
    "api.webhooksubscription": {
        name: only().allowed for name in ("pause", "resume", "delete_subscriptions", "replay_failed_since")
    },
    "api.webhookdelivery": {"replay": only().allowed},
    "compliance.erasurerecipient": {"waive": only(C).allowed},
}


def expected_actions(label: str, persona: str) -> set[str]:
    names = {name for name, personas in ACTIONS.get(label, {}).items() if persona in personas}
    if persona in MODEL_RIGHTS[label].delete:
        names.add("delete_selected")
    return names
