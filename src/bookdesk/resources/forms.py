"""Admin forms for resources: settings, weekly bookable hours, approver groups, blackouts.

Durations are asked for in the units people think in (minutes, hours, days) and hours per
weekday as text such as "09:00-12:00, 13:00-17:00", so a day may have several intervals.
"""

from __future__ import annotations

import itertools
import re
import zoneinfo
from datetime import time, timedelta
from typing import cast

from django import forms
from django.contrib.auth.models import Group

from bookdesk.core.forms import LocalDateTimeInput, aware_in_zone
from bookdesk.resources.models import Resource, ResourceKind, Weekday

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _zone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def parse_hours(text: str) -> list[tuple[time, time]]:
    spans = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _SPAN.match(part)
        if not match:
            raise forms.ValidationError(f"Write hours as 09:00-17:00, not {part!r}.")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise forms.ValidationError(f"{part!r} is not within one day (00:00-23:59).")
        opens, closes = time(h1, m1), time(h2, m2)
        if closes <= opens:
            raise forms.ValidationError(f"In {part!r} the closing time is not after the opening.")
        spans.append((opens, closes))
    spans.sort()
    for (_a, b), (c, _d) in itertools.pairwise(spans):
        if c < b:
            raise forms.ValidationError("The intervals of one day overlap.")
    return spans


def format_hours(rows) -> str:
    return ", ".join(f"{r.opens:%H:%M}-{r.closes:%H:%M}" for r in rows)


class ResourceForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ResourceKind.choices)
    location = forms.CharField(max_length=200, required=False)
    capacity = forms.IntegerField(min_value=1, help_text="How many people it holds.")
    timezone = forms.ChoiceField(
        choices=_zone_choices, initial="UTC", label="Time zone", help_text="Where it is."
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_active = forms.BooleanField(required=False, initial=True, label="Bookable (active)")
    min_duration_minutes = forms.IntegerField(
        min_value=1, initial=15, label="Shortest booking (minutes)"
    )
    max_duration_minutes = forms.IntegerField(
        min_value=1, initial=480, label="Longest booking (minutes)"
    )
    min_notice_hours = forms.IntegerField(
        min_value=0,
        initial=0,
        label="Notice needed (hours)",
        help_text="How late a request may come.",
    )
    max_advance_days = forms.IntegerField(
        min_value=1,
        initial=365,
        label="Bookable ahead (days)",
        help_text="How far ahead one may book.",
    )
    requires_approval = forms.BooleanField(required=False, label="Requests need approval")
    pending_holds_slot = forms.BooleanField(
        required=False, label="A pending request holds its slot"
    )
    approver_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Members of these groups decide its requests (admins when none).",
    )
    new_group = forms.CharField(
        required=False, max_length=150, label="New approver group", help_text="Created and added."
    )
    limit_hours = forms.BooleanField(
        required=False,
        label="Only bookable at set hours",
        help_text="Without this it can be booked around the clock.",
    )

    def __init__(self, *args, resource: Resource | None = None, **kwargs):
        if resource is not None:
            kwargs.setdefault("initial", self.initial_for(resource))
        super().__init__(*args, **kwargs)
        groups_field = cast(forms.ModelMultipleChoiceField, self.fields["approver_groups"])
        groups_field.queryset = Group.objects.order_by("name")
        for day in Weekday:
            self.fields[f"hours_{day.value}"] = forms.CharField(
                required=False,
                max_length=200,
                label=f"{day.label} hours",
                help_text="e.g. 09:00-17:00 or 08:00-12:00, 13:00-18:00; empty: closed",
            )

    @staticmethod
    def initial_for(resource: Resource) -> dict:
        rows = list(resource.opening_hours.all())
        initial = {
            "name": resource.name,
            "kind": resource.kind,
            "location": resource.location,
            "capacity": resource.capacity,
            "timezone": resource.timezone,
            "description": resource.description,
            "is_active": resource.is_active,
            "min_duration_minutes": int(resource.min_duration.total_seconds() // 60),
            "max_duration_minutes": int(resource.max_duration.total_seconds() // 60),
            "min_notice_hours": int(resource.min_notice.total_seconds() // 3600),
            "max_advance_days": resource.max_advance.days,
            "requires_approval": resource.requires_approval,
            "pending_holds_slot": resource.pending_holds_slot,
            "approver_groups": list(resource.approver_groups.all()),
            "limit_hours": bool(rows),
        }
        for day in Weekday:
            initial[f"hours_{day.value}"] = format_hours(r for r in rows if r.weekday == day.value)
        return initial

    def clean(self):
        data = super().clean()
        low, high = data.get("min_duration_minutes"), data.get("max_duration_minutes")
        if low and high and high < low:
            self.add_error(
                "max_duration_minutes", "The longest booking is shorter than the shortest."
            )
        hours = []
        for day in Weekday:
            try:
                spans = parse_hours(data.get(f"hours_{day.value}") or "")
            except forms.ValidationError as exc:
                self.add_error(f"hours_{day.value}", exc)
                continue
            hours += [{"weekday": day.value, "opens": a, "closes": b} for a, b in spans]
        if data.get("limit_hours") and not hours and not self.errors:
            self.add_error("limit_hours", "Give the hours of at least one day, or untick this.")
        data["opening_hours"] = hours if data.get("limit_hours") else []
        return data

    def service_arguments(self) -> dict:
        """Keyword arguments for resource_create / resource_update."""
        data = self.cleaned_data
        groups = [g.name for g in data["approver_groups"]]
        if data.get("new_group", "").strip():
            groups.append(data["new_group"].strip())
        return {
            "name": data["name"].strip(),
            "kind": data["kind"],
            "location": data["location"].strip(),
            "capacity": data["capacity"],
            "timezone": data["timezone"],
            "description": data["description"],
            "is_active": data["is_active"],
            "min_duration": timedelta(minutes=data["min_duration_minutes"]),
            "max_duration": timedelta(minutes=data["max_duration_minutes"]),
            "min_notice": timedelta(hours=data["min_notice_hours"]),
            "max_advance": timedelta(days=data["max_advance_days"]),
            "requires_approval": data["requires_approval"],
            "pending_holds_slot": data["pending_holds_slot"],
            "approver_groups": sorted(set(groups)),
            "opening_hours": data["opening_hours"],
        }

    def weekday_fields(self):
        return [self[f"hours_{day.value}"] for day in Weekday]


class BlackoutForm(forms.Form):
    """A blackout period; times are read in ``zone`` (the resource's, or UTC for all)."""

    start = forms.DateTimeField(widget=LocalDateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"])
    end = forms.DateTimeField(widget=LocalDateTimeInput(), input_formats=["%Y-%m-%dT%H:%M"])
    reason = forms.CharField(max_length=200, help_text="Holiday, maintenance, ...")

    def __init__(self, *args, zone: zoneinfo.ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["start"].help_text = self.fields["end"].help_text = f"In {zone.key}."

    def clean(self):
        data = super().clean()
        for name in ("start", "end"):
            if data.get(name):
                try:
                    data[name] = aware_in_zone(data[name], self.zone)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", "The end must be after the start.")
        return data
