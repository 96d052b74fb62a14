"""The ticket page's action table (tickets.admin.tickets.ACTIONS): one row per action, and
the page never offers a form its URL would refuse."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse

from customer_ops.roles import Role
from tests.factories import TicketFactory, UserFactory
from tickets.admin.tickets import ACTIONS, PageState
from tickets.choices import TicketStatus

pytestmark = pytest.mark.django_db


def test_every_action_has_its_url_and_its_place_on_the_page():
    from django.template.loader import get_template

    source = get_template("admin/tickets/ticket/workspace.html").template.source
    for name in ACTIONS:
        key = name.replace("-", "_")
        assert reverse(f"admin:tickets_ticket_{key}", args=[1]).endswith(f"/1/{name}/")
        assert f"show.{key}" in source and f"forms.{key}" in source


def test_a_shown_action_is_one_the_user_may_post(make_staff):
    from tickets.services.tickets import can_work

    users = [make_staff(role) for role in Role] + [UserFactory(is_superuser=True, username="root-actions")]
    other = make_staff(Role.AGENT)
    tried = 0
    for user, status, holder in itertools.product(users, TicketStatus.values, ("none", "self", "other")):
        agent = {"none": None, "self": user, "other": other}[holder]
        ticket = TicketFactory.build(status=status, assigned_to_agent=agent)
        state = PageState(user=user, ticket=ticket, can_work=can_work(user, ticket), version="v", seen=(0, 0))
        for name, action in ACTIONS.items():
            if action.shown(state):
                tried += 1
                assert action.may(user), (name, status, holder, [g.name for g in user.groups.all()])
    assert tried  # the walk showed something
