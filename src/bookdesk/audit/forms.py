"""The audit log's filter form (all fields optional; an empty form shows everything)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms

from bookdesk.audit.models import AuditEvent


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False)
    actor = forms.CharField(
        required=False, max_length=254, label="Actor email", help_text="Part of an address."
    )
    target = forms.CharField(
        required=False,
        max_length=130,
        help_text='A type, an id, or both as "type:id", e.g. bookings.booking:12.',
    )
    date_from = forms.DateField(
        required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actions = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
        self.fields["action"].choices = [("", "Any action")] + [(a, a) for a in actions]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError("The end date is before the start date.")
        return data

    def filter(self, queryset):
        """Narrow ``queryset`` by the cleaned values (call after is_valid())."""
        data = self.cleaned_data
        if data.get("action"):
            queryset = queryset.filter(action=data["action"])
        if data.get("actor"):
            queryset = queryset.filter(actor_email__icontains=data["actor"].strip())
        target = (data.get("target") or "").strip()
        if target:
            kind, sep, ident = target.partition(":")
            if sep:
                queryset = queryset.filter(target_type=kind.strip(), target_id=ident.strip())
            elif target.isdigit():
                queryset = queryset.filter(target_id=target)
            else:
                queryset = queryset.filter(target_type=target)
        if data.get("date_from"):
            queryset = queryset.filter(at__gte=datetime.combine(data["date_from"], time(), UTC))
        if data.get("date_to"):
            # The end date is inclusive: everything before the next midnight.
            end = datetime.combine(data["date_to"], time(), UTC) + timedelta(days=1)
            queryset = queryset.filter(at__lt=end)
        return queryset
