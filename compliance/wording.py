"""What the customer is told when their data-subject request is refused, per reason."""

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


def customer_wording(code: str) -> str:
    return CUSTOMER_WORDING.get(code, "")
