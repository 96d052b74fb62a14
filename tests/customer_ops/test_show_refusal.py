"""The admin's one mapping of a service's refusal (customer_ops.admin_base.show_refusal):
each kind of DomainError shows where the pages have always shown it."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from customer_ops.admin_base import show_refusal
from customer_ops.errors import Conflict, DomainError, Invalid, NotAllowed


class AmountForm(forms.Form):
    amount = forms.DecimalField()


def _request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _form():
    form = AmountForm({"amount": "5"})
    assert form.is_valid()
    return form


def _messages(request) -> list[str]:
    return [m.message for m in get_messages(request)]


@pytest.mark.parametrize("kind", [DomainError, Invalid, NotAllowed, Conflict])
def test_an_error_naming_a_field_of_the_form_goes_on_that_field(kind):
    request, form = _request(), _form()
    assert show_refusal(request, kind("Above your limit.", field="amount"), form=form, not_allowed_403=True)
    assert form.errors == {"amount": ["Above your limit."]} and not _messages(request)


def test_an_error_naming_no_field_of_the_form_goes_on_top_of_it():
    request, form = _request(), _form()
    assert show_refusal(request, Invalid("Nothing left to refund.", field="customer_tickets.status"), form=form)
    assert form.non_field_errors() == ["Nothing left to refund."] and not _messages(request)


def test_not_allowed_is_a_403_only_where_the_page_asks():
    with pytest.raises(PermissionDenied, match="Your role may not"):
        show_refusal(_request(), NotAllowed("Your role may not."), form=_form(), not_allowed_403=True)
    request, form = _request(), _form()  # the compliance four-eyes refusal: shown, no 403
    assert not show_refusal(request, NotAllowed("Another officer must approve it."))
    assert _messages(request) == ["Another officer must approve it."]
    assert show_refusal(request, NotAllowed("Another officer must approve it."), form=form)
    assert form.non_field_errors() == ["Another officer must approve it."]


def test_a_conflict_drops_the_stale_form_where_the_page_reloads():
    request, form = _request(), _form()
    changed = Conflict("Changed by someone else since you opened it.")
    assert not show_refusal(request, changed, form=form, conflict_reloads=True)
    assert not form.errors and _messages(request) == [changed.message]
    assert show_refusal(request, changed, form=form)
    assert form.non_field_errors() == [changed.message]
