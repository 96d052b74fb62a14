"""What the customer is told when their data-subject request is refused, per reason and kind."""

from compliance.choices import RefusalReason

CUSTOMER_WORDING = {
    RefusalReason.MANIFESTLY_UNFOUNDED: (
        "We cannot act on your request because it is manifestly unfounded (GDPR art. 12(5)). "
        "You may complain to a supervisory authority or seek a judicial remedy."
    ),
    RefusalReason.EXCESSIVE: (
        "We cannot act on your request because it is excessive, in particular because it repeats an earlier "
        "request (GDPR art. 12(5)). You may complain to a supervisory authority or seek a judicial remedy."
    ),
    RefusalReason.IDENTITY_NOT_VERIFIED: (
        "We could not confirm your identity, so we cannot act on your request (GDPR art. 12(6)). "
        "Please contact us again with the information we asked for."
    ),
    RefusalReason.LEGAL_OBLIGATION: (
        "We must keep this data to comply with a legal obligation (GDPR art. 17(3)(b)), so we cannot erase it "
        "now. You may complain to a supervisory authority or seek a judicial remedy."
    ),
    RefusalReason.LEGAL_CLAIMS: (
        "We need this data to establish, exercise or defend legal claims (GDPR art. 17(3)(e)). "
        "You may complain to a supervisory authority or seek a judicial remedy."
    ),
    RefusalReason.OTHER: (
        "We cannot act on your request for the reason given below. "
        "You may complain to a supervisory authority or seek a judicial remedy."
    ),
}

# An access request (art. 15) is refused in the same words, but for two reasons the deletion
# wording speaks of erasure (art. 17(3)): for an access request they are the restrictions a
# law may set on the right of access (art. 23(1)).
ACCESS_WORDING = {
    **CUSTOMER_WORDING,
    RefusalReason.LEGAL_OBLIGATION: (
        "A legal obligation prevents us from giving you this data (GDPR art. 23(1)). "
        "You may complain to a supervisory authority or seek a judicial remedy."
    ),
    RefusalReason.LEGAL_CLAIMS: (
        "Giving you this data now would prejudice the establishment, exercise or defence of legal claims "
        "(GDPR art. 23(1)(j)). You may complain to a supervisory authority or seek a judicial remedy."
    ),
}


def customer_wording(code: str, *, access: bool = False) -> str:
    """What the customer is told for a refusal with ``code``: of an access request, or a deletion request."""
    return (ACCESS_WORDING if access else CUSTOMER_WORDING).get(code, "")
