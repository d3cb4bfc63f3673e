"""Forms of the booking pages. Times typed by a person are wall-clock times in the
resource's own zone; the forms turn them into aware datetimes (stored in UTC later)."""

from __future__ import annotations

from django import forms

from bookdesk.bookings.models import BookingStatus, Frequency
from bookdesk.core.forms import LocalDateTimeInput, aware_in_zone
from bookdesk.resources.models import Resource, ResourceKind

MAX_OCCURRENCES = 100


class BookingForm(forms.Form):
    resource = forms.ModelChoiceField(queryset=Resource.objects.none(), empty_label=None)
    start = forms.DateTimeField(
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="In the resource's time zone.",
    )
    end = forms.DateTimeField(
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="In the resource's time zone.",
    )
    title = forms.CharField(max_length=200)
    purpose = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    attendees = forms.IntegerField(min_value=1, initial=1, label="Number of attendees")
    repeat = forms.ChoiceField(
        choices=[("", "Does not repeat"), *Frequency.choices], required=False
    )
    count = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_OCCURRENCES,
        label="Number of occurrences",
        help_text="For a repeating booking: how many times, or give an end date below.",
    )
    until = forms.DateField(
        required=False,
        label="Repeat until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    on_conflict = forms.ChoiceField(
        choices=[
            ("all", "Book all occurrences or none"),
            ("skip", "Skip occurrences that clash, book the rest"),
        ],
        initial="all",
        widget=forms.RadioSelect,
        label="If an occurrence clashes",
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        resources = Resource.objects.filter(is_active=True).order_by("name")
        self.fields["resource"].queryset = resources
        self.fields["resource"].label_from_instance = lambda r: (
            f"{r.name} ({r.location or r.get_kind_display()}, up to {r.capacity}, {r.timezone})"
        )

    def clean(self):
        data = super().clean()
        resource = data.get("resource")
        if resource is None or not data.get("start") or not data.get("end"):
            return data
        zone = resource.zone
        try:
            data["start"] = aware_in_zone(data["start"], zone)
        except forms.ValidationError as exc:
            self.add_error("start", exc)
        try:
            data["end"] = aware_in_zone(data["end"], zone)
        except forms.ValidationError as exc:
            self.add_error("end", exc)
        if self.errors:
            return data
        if data["end"] <= data["start"]:
            self.add_error("end", "The end must be after the start.")
        if data.get("repeat"):
            if not data.get("count") and not data.get("until"):
                self.add_error("count", "Say how many times, or until when, it repeats.")
            if data.get("until") and data["until"] < data["start"].astimezone(zone).date():
                self.add_error("until", "The last date is before the first booking.")
        return data


class AvailabilityForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time_from = forms.TimeField(label="From", widget=forms.TimeInput(attrs={"type": "time"}))
    time_to = forms.TimeField(label="To", widget=forms.TimeInput(attrs={"type": "time"}))
    capacity = forms.IntegerField(
        required=False, min_value=1, label="People", help_text="At least this many seats."
    )
    kind = forms.ChoiceField(
        required=False, choices=[("", "Any kind"), *ResourceKind.choices], label="Kind"
    )

    def clean(self):
        data = super().clean()
        if data.get("time_from") and data.get("time_to") and data["time_to"] <= data["time_from"]:
            self.add_error("time_to", "The end time must be after the start time.")
        return data


class MyBookingsFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *BookingStatus.choices])
    when = forms.ChoiceField(
        required=False,
        choices=[("upcoming", "Upcoming"), ("past", "Past"), ("all", "All")],
        initial="upcoming",
    )


class CancelForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[("one", "Only this booking"), ("following", "This and the following ones")],
        initial="one",
        widget=forms.RadioSelect,
        required=False,
    )


class DecisionForm(forms.Form):
    """Approve or reject one or more pending requests (the ids come from checkboxes)."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to reject; the requester sees it.",
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason to reject.")
        return data
