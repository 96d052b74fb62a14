"""Personal queue views (issue 24, Build 3): save, open and delete one's own; another agent
can neither see nor use them; a view is checked again on every use (a field made
confidential after saving is refused as a typed URL is); the home tiles count every view in
a bounded number of queries; bad names are form errors that write nothing."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from customer_ops import personal_data
from tests.assertions import assert_page_shows, unchanged
from tests.factories import TicketFactory
from tickets.models import SavedQueueView, Ticket

pytestmark = pytest.mark.django_db
QUEUE = reverse("admin:tickets_ticket_changelist")
SAVE = reverse("admin:tickets_ticket_save_view")
HOME = "/admin/"


def _open(view):
    return reverse("admin:tickets_ticket_saved_view", args=[view.pk])


def _delete(view):
    return reverse("admin:tickets_ticket_delete_view", args=[view.pk])


@pytest.fixture
def tickets(db):
    return {
        "high": TicketFactory.create_batch(3, priority="HIGH", subject="Parcel lost"),
        "low": TicketFactory.create_batch(2, priority="LOW", subject="Parcel late"),
    }


def test_an_agent_saves_opens_and_deletes_a_view(client, agent, tickets):
    client.force_login(agent)
    query = urlencode({"priority__exact": "HIGH", "q": "Parcel", "o": "3", "p": "2"})
    response = client.post(SAVE, {"name": " Urgent parcels ", "query": query})
    view = SavedQueueView.objects.get(owner=agent)
    assert view.name == "Urgent parcels"
    assert view.query == "priority__exact=HIGH&q=Parcel&o=3"  # the page shown is no part of a view
    assert response.status_code == 302 and response["Location"] == QUEUE + "?" + view.query

    queue = client.get(QUEUE)
    assert_page_shows(queue, present=["Urgent parcels", _open(view), _delete(view)])
    opened = client.get(_open(view), follow=True)
    assert {t.pk for t in opened.context["cl"].result_list} == {t.pk for t in tickets["high"]}

    home = client.get(HOME)
    tiles = {t.label: t for s in home.context["home_sections"] for t in s["tiles"]}
    assert tiles["Urgent parcels"].count == 3 and tiles["Urgent parcels"].url == _open(view)

    assert client.post(_delete(view)).status_code == 302
    assert not SavedQueueView.objects.filter(pk=view.pk).exists()


def test_another_agent_can_neither_see_nor_use_nor_delete_a_view(client, agent, agent2, tickets):
    view = SavedQueueView.objects.create(owner=agent, name="Mine only", query="priority__exact=HIGH")
    client.force_login(agent2)
    queue = client.get(QUEUE)
    assert_page_shows(queue, present=[tickets["high"][0].ticket_id], absent=["Mine only", _open(view)])
    assert "Mine only" not in [t.label for s in client.get(HOME).context["home_sections"] for t in s["tiles"]]
    assert client.get(_open(view)).status_code == 404
    with unchanged(SavedQueueView):
        assert client.post(_delete(view)).status_code == 404


@pytest.fixture
def service_type_confidential(monkeypatch):
    """``service_type`` becomes a restricted field of tickets, as legal_notes is of disputes."""
    monkeypatch.setitem(
        personal_data._restricted, "tickets.ticket", (frozenset({"service_type"}), "tickets.change_dispute")
    )


def test_a_field_made_confidential_after_saving_is_refused_when_the_view_is_used(client, agent, tickets, request):
    ticket = tickets["high"][0]
    view = SavedQueueView.objects.create(owner=agent, name="By service", query=f"service_type={ticket.service_type}")
    client.force_login(agent)
    assert client.get(_open(view), follow=True).status_code == 200  # allowed while the field is not confidential
    request.getfixturevalue("service_type_confidential")

    opened = client.get(_open(view), follow=True)
    assert opened.status_code == 400  # the queue's own refusal, as for a typed URL
    home = client.get(HOME)
    tile = next(t for s in home.context["home_sections"] for t in s["tiles"] if t.label == "By service")
    assert tile.count is None and tile.value == "refused"


def test_saving_a_view_on_a_confidential_field_is_a_form_error(client, agent, tickets):
    client.force_login(agent)
    with unchanged(SavedQueueView):
        response = client.post(SAVE, {"name": "Legal", "query": "disputes__legal_notes__icontains=secret"})
    assert_page_shows(response, present=["The queue refuses these filters"])


@pytest.mark.parametrize(
    "name, error",
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 61, "Ensure this value has at most 60 characters"),
        ("my VIEW", "You already have a view with this name."),
    ],
)
def test_bad_names_are_form_errors(client, agent, agent2, name, error):
    SavedQueueView.objects.create(owner=agent, name="My view", query="")
    SavedQueueView.objects.create(owner=agent2, name="Other", query="")
    client.force_login(agent)
    with unchanged(SavedQueueView):
        response = client.post(SAVE, {"name": name, "query": "priority__exact=HIGH"})
    assert_page_shows(response, present=[error])


def test_the_same_name_is_fine_for_another_agent(client, agent, agent2):
    SavedQueueView.objects.create(owner=agent2, name="My view", query="")
    client.force_login(agent)
    assert client.post(SAVE, {"name": "My view", "query": ""}).status_code == 302
    assert SavedQueueView.objects.filter(name="My view").count() == 2


def _home_queries(client, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(HOME)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_home_tiles_cost_the_same_queries_for_1_and_10_views(client, agent, tickets, django_assert_max_num_queries):
    client.force_login(agent)
    SavedQueueView.objects.create(owner=agent, name="view 0", query="priority__exact=HIGH&q=Parcel")
    client.get(HOME)  # warm the per-process caches (content types, permissions)
    one = _home_queries(client, django_assert_max_num_queries, 60)
    for i in range(1, 10):
        SavedQueueView.objects.create(owner=agent, name=f"view {i}", query=f"priority__exact=LOW&q=late&o={i % 3}")
    ten = _home_queries(client, django_assert_max_num_queries, one)
    assert ten == one
    tiles = {t.label: t.count for s in client.get(HOME).context["home_sections"] for t in s["tiles"]}
    assert tiles["view 0"] == 3 and tiles["view 9"] == 2 == Ticket.objects.filter(priority="LOW").count()


def test_a_full_set_of_views_is_a_form_error(client, agent, monkeypatch):
    from tickets import saved_views

    monkeypatch.setattr(saved_views, "MAX_VIEWS", 2)  # the home page counts them all in one statement
    for name in ("one", "two"):
        SavedQueueView.objects.create(owner=agent, name=name, query="")
    client.force_login(agent)
    with unchanged(SavedQueueView):
        response = client.post(SAVE, {"name": "three", "query": ""})
    assert_page_shows(response, present=["You have 2 views already: delete one first."])


def test_an_erasure_rewrites_the_saved_searches_that_name_the_customer(agent, agent2, make_staff):
    """A view's search is staff text about a customer in a table that leads to no customer:
    the erasure finds it by the customer's identifiers (decoded from the query string)."""
    from compliance import services
    from customer_ops.roles import Role
    from tests import factories as f

    customer = f.CustomerFactory(full_name="Quilla Marchbanks", email="quilla.m@example.org")
    other = f.CustomerFactory(email="someone.else@example.org")
    TicketFactory(customer=customer)
    by_email = SavedQueueView.objects.create(
        owner=agent, name="Her tickets", query=urlencode({"q": "quilla.m@example.org", "priority__exact": "HIGH"})
    )
    by_name = SavedQueueView.objects.create(owner=agent2, name="Name", query=urlencode({"q": "Quilla  Marchbanks"}))
    untouched = SavedQueueView.objects.create(owner=agent, name="Other", query=urlencode({"q": other.email}))
    officer, approver = make_staff(Role.COMPLIANCE), make_staff(Role.COMPLIANCE)
    request = services.deletion_request_create(customer=customer, scopes=["ALL"], reason="asked", actor=officer)
    f.identity_verified(request, officer)
    services.deletion_request_approve(request=request, actor=approver)
    services.deletion_request_run(request=request)

    for view in (by_email, by_name):
        view.refresh_from_db()
        assert "quilla" not in view.query.lower() and "marchbanks" not in view.query.lower(), view.query
        assert "erased" in view.query
    by_email.refresh_from_db()
    assert "priority__exact=HIGH" in by_email.query  # the rest of the view stays
    untouched.refresh_from_db()
    assert untouched.query == urlencode({"q": other.email})
