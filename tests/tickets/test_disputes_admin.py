"""The legal team's console: legal fields for them alone, transitions, 403s, bounded lists."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from import_export.formats.base_formats import CSV

from customer_ops.roles import Role
from tests import factories as f
from tests.assertions import assert_page_shows, unchanged
from tickets.models import Dispute
from tickets.services import disputes as svc

pytestmark = pytest.mark.django_db

CASE, NOTES = "LC-SECRET-0042", "Privileged: counsel thinks the merchant lies"
NON_LEGAL = [Role.AGENT, Role.LEAD, Role.FRAUD, Role.COMPLIANCE]


@pytest.fixture
def legal(make_staff):
    return make_staff(Role.LEGAL)


@pytest.fixture
def dispute(legal):
    d = f.DisputeFactory(disputed_amount=Decimal("40.00"), disputed_against_id=7)
    svc.dispute_update(dispute=d, actor=legal, legal_case_number=CASE, legal_notes=NOTES)
    svc.dispute_start_investigation(dispute=d, actor=legal)
    return d


def _client(client, user):
    client.force_login(user)
    return client


def test_legal_team_sees_legal_fields_everywhere(client, legal, dispute):
    c = _client(client, legal)
    page = c.get(reverse("admin:tickets_dispute_change", args=[dispute.pk])).content.decode()
    assert NOTES in page and CASE in page
    listing = c.get(reverse("admin:tickets_dispute_changelist")).content.decode()
    assert CASE in listing
    found = c.get(reverse("admin:tickets_dispute_changelist"), {"q": CASE})
    assert found.context["cl"].result_count == 1


@pytest.mark.parametrize("role", NON_LEGAL, ids=lambda r: r.name)
def test_other_roles_get_no_legal_field_in_form_list_search_history(client, make_staff, dispute, role):
    c = _client(client, make_staff(role))
    shown = [dispute.dispute_id]  # each page is the dispute's, not a 403 or an empty page
    change = c.get(reverse("admin:tickets_dispute_change", args=[dispute.pk]))
    assert_page_shows(change, present=[*shown, dispute.dispute_reason], absent=[NOTES, CASE, "legal_notes"])
    listing = c.get(reverse("admin:tickets_dispute_changelist"))
    assert_page_shows(listing, present=shown, absent=[CASE, "legal_case_number"])
    searched = c.get(reverse("admin:tickets_dispute_changelist"), {"q": CASE})
    assert searched.context["cl"].result_count == 0
    history = c.get(reverse("admin:tickets_dispute_history", args=[dispute.pk]))
    assert_page_shows(history, present=shown, absent=[NOTES, CASE, "Legal"])
    version = dispute.history.earliest()
    form_page = c.get(reverse("admin:tickets_dispute_simple_history", args=[dispute.pk, version.history_id]))
    assert_page_shows(form_page, present=shown, absent=[NOTES])


@pytest.mark.parametrize("role", NON_LEGAL, ids=lambda r: r.name)
def test_other_roles_export_has_no_legal_columns(make_staff, dispute, role, client):
    user = make_staff(role)
    request = RequestFactory().get("/")
    request.user = user
    model_admin = site._registry[Dispute]
    data = model_admin.get_export_data(CSV(), request, Dispute.objects.all())
    header = data.splitlines()[0]
    assert "dispute_id" in header and "legal" not in header and NOTES not in data
    page = _client(client, user).get(reverse("admin:tickets_dispute_export"))
    assert_page_shows(page, present=["dispute_reason"], absent=["legal_notes"])


def test_legal_export_has_legal_columns(legal, dispute):
    request = RequestFactory().get("/")
    request.user = legal
    data = site._registry[Dispute].get_export_data(CSV(), request, Dispute.objects.all())
    assert "legal_notes" in data.splitlines()[0] and NOTES in data


def test_a_non_legal_user_who_may_change_cannot_set_legal_fields_by_post(client, make_staff, dispute):
    from django.contrib.auth.models import Permission

    user = make_staff(Role.LEAD)
    user.user_permissions.add(Permission.objects.get(codename="change_dispute"))
    c = _client(client, user)
    url = reverse("admin:tickets_dispute_change", args=[dispute.pk])
    form = c.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(
        customer=dispute.customer_id,
        order=dispute.order_id,
        evidence_urls="",
        evidence_description="new evidence",
        legal_notes="overwritten",
        legal_case_number="X",
        version=form.initial["version"] if "version" in form.initial else form["version"].initial,
    )
    response = c.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    dispute.refresh_from_db()
    assert dispute.evidence_description == "new evidence"
    assert (dispute.legal_notes, dispute.legal_case_number) == (NOTES, CASE)


@pytest.mark.parametrize("role", NON_LEGAL, ids=lambda r: r.name)
def test_transition_pages_are_403_without_change_permission(client, make_staff, dispute, role):
    c = _client(client, make_staff(role))
    url = reverse("admin:tickets_dispute_transition", args=[dispute.pk, "resolve"])
    with unchanged(dispute, dispute.history.all()):
        assert c.get(url).status_code == 403
        assert c.post(url, {"resolution": "x", "resolution_amount": "1"}).status_code == 403


def test_resolve_through_the_page_and_bad_amount_is_a_form_error(client, legal, dispute):
    c = _client(client, legal)
    url = reverse("admin:tickets_dispute_transition", args=[dispute.pk, "resolve"])
    with unchanged(dispute, dispute.history.all()):
        bad = c.post(url, {"resolution": "Full refund", "resolution_amount": "40.01"})
        empty = c.post(url, {"resolution": "", "resolution_amount": "abc"})
    assert bad.status_code == 200 and "cannot exceed the disputed amount" in bad.content.decode()
    assert empty.status_code == 200 and empty.context["form"].errors
    ok = c.post(url, {"resolution": "Full refund", "resolution_amount": "40.00", "refund_amount": "40.00"})
    assert ok.status_code == 302
    assert Dispute.objects.get(pk=dispute.pk).dispute_status == "RESOLVED"
    # A closed dispute offers no transition, and a forged one is refused with a message.
    with unchanged(dispute, dispute.history.all()):
        again = c.post(reverse("admin:tickets_dispute_transition", args=[dispute.pk, "reject"]), {"resolution": "no"})
    assert again.status_code == 200 and "cannot move" in again.content.decode()


def test_a_transition_on_a_dispute_changed_since_the_page_loaded_is_refused(client, legal, dispute):
    c = _client(client, legal)
    url = reverse("admin:tickets_dispute_transition", args=[dispute.pk, "escalate"])  # it is investigating
    loaded = c.get(url).context["form"]["version"].value()
    assert f'name="version" value="{loaded}"' in c.get(url).content.decode()  # hidden, in the page
    svc.dispute_update(dispute=dispute, actor=legal, evidence_description="added meanwhile")
    with unchanged(dispute, dispute.history.all()):
        stale = c.post(url, {"version": loaded, "note": "looking"})
        tampered = c.post(url, {"version": "not-a-date", "note": "looking"})
    assert stale.status_code == 200 and "changed by someone else" in stale.content.decode()
    assert tampered.status_code == 200 and tampered.context["form"].errors["version"]
    fresh = c.get(url).context["form"]["version"].value()
    assert c.post(url, {"version": fresh, "note": "looking"}).status_code == 302
    assert Dispute.objects.get(pk=dispute.pk).dispute_status == "ESCALATED"


def test_add_form_with_bad_input_writes_nothing(client, legal):
    order = f.OrderFactory()
    c = _client(client, legal)
    with unchanged(Dispute):
        response = c.post(
            reverse("admin:tickets_dispute_add"),
            {
                "customer": order.customer_id,
                "order": order.pk,
                "dispute_type": "QUALITY",
                "dispute_reason": "Cold",
                "disputed_against": "MERCHANT",
                "disputed_against_id": "",
                "disputed_amount": "10.00",
                "evidence_urls": "",
            },
        )
    assert response.status_code == 200
    assert "id of the merchant" in response.content.decode()
    assert not Dispute.objects.exists()


def test_list_and_action_required_pages_are_bounded(client, legal, django_assert_max_num_queries):
    for _ in range(30):
        f.DisputeFactory(ticket=f.TicketFactory())
    c = _client(client, legal)
    with django_assert_max_num_queries(15):
        assert c.get(reverse("admin:tickets_dispute_changelist"), {"all": ""}).status_code == 200
    with django_assert_max_num_queries(12):
        assert c.get(reverse("admin:tickets_dispute_action_required")).status_code == 200


def test_action_required_pages_reach_every_open_dispute(client, legal, monkeypatch):
    """The home page's tile counts every open dispute; the list's pages show each of them once."""
    from tickets.admin import disputes as dispute_admin

    monkeypatch.setattr(dispute_admin, "ACTION_REQUIRED_PER_PAGE", 2)
    for _ in range(5):
        f.DisputeFactory(ticket=f.TicketFactory())
    f.DisputeFactory(ticket=f.TicketFactory(), dispute_status="RESOLVED", resolved_at="2026-01-01T00:00:00Z")
    expected = list(svc.action_required().values_list("pk", flat=True))
    assert len(expected) == 5
    c = _client(client, legal)
    url = reverse("admin:tickets_dispute_action_required")
    shown = []
    for page in (1, 2, 3):
        response = c.get(url, {"p": page})
        assert "5 open disputes, page" in response.content.decode()
        shown += [row["dispute"].pk for row in response.context["rows"]]
    assert shown == expected
    for junk in ("abc", "999", "-1"):  # junk or out of range: a page, never a 500
        assert c.get(url, {"p": junk}).status_code == 200


@pytest.mark.parametrize("version", ["not-a-date", "2026-02-31T10:00:00+00:00", "\u0661\u0662"])
def test_a_tampered_version_is_a_form_error_and_nothing_changes(client, legal, dispute, version):
    c = _client(client, legal)
    url = reverse("admin:tickets_dispute_change", args=[dispute.pk])
    form = c.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(customer=dispute.customer_id, order=dispute.order_id, evidence_urls="", evidence_description="changed")
    data["version"] = version
    response = c.post(url, data)
    assert response.status_code == 200
    assert "altered or is out of date" in response.content.decode()
    assert Dispute.objects.get(pk=dispute.pk).evidence_description != "changed"


def test_the_dispute_page_reads_its_dispute_once(client, legal, dispute):
    """The transitions offered come from the object the admin read for the page, not a second read."""
    c = _client(client, legal)
    table = Dispute._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        page = c.get(reverse("admin:tickets_dispute_change", args=[dispute.pk])).content.decode()
    assert "Escalate" in page and "Resolve" in page  # the investigating dispute's transitions
    # get_object's read, with the customer and order it shows (the panels read by customer)
    by_key = f'WHERE "{table}"."id" = '
    reads = [q["sql"] for q in queries if q["sql"].startswith(f'SELECT "{table}".') and by_key in q["sql"]]
    assert len(reads) == 1, reads
