"""Form widgets shared by every admin page, with the accessible names Django's leave out."""

from __future__ import annotations

from django.contrib.admin.widgets import AdminSplitDateTime


class LabelledSplitDateTime(AdminSplitDateTime):
    """The admin's date and time inputs, each with an accessible name: Django prints "Date:" and
    "Time:" as bare text and labels the pair with a legend only (axe: label, critical). The
    default widget of every DateTimeField in the project's admins (``admin_base.BaseAdmin``)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = "Date"
        self.widgets[1].attrs["aria-label"] = "Time"
