"""Bookable resources, their weekly opening hours and blackout periods."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not an IANA time zone name") from exc


class ResourceKind(models.TextChoices):
    ROOM = "room", "Room"
    HALL = "hall", "Hall"
    VEHICLE = "vehicle", "Vehicle"
    EQUIPMENT = "equipment", "Equipment"


class Resource(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=ResourceKind.choices, default=ResourceKind.ROOM)
    location = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveIntegerField(default=1)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    min_duration = models.DurationField(default=timedelta(minutes=15))
    max_duration = models.DurationField(default=timedelta(hours=8))
    # How late (min_notice before start) and how far ahead (max_advance) one may ask.
    min_notice = models.DurationField(default=timedelta(0))
    max_advance = models.DurationField(default=timedelta(days=365))
    requires_approval = models.BooleanField(default=False)
    # When true, a pending request blocks its slot like an approved one would.
    pending_holds_slot = models.BooleanField(default=False)
    approver_groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="approvable_resources"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="resource_capacity_positive"),
            models.CheckConstraint(
                condition=Q(min_duration__gt=timedelta(0)), name="resource_min_duration_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_duration__gte=F("min_duration")),
                name="resource_duration_range_valid",
            ),
            models.CheckConstraint(
                condition=Q(min_notice__gte=timedelta(0)), name="resource_min_notice_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ResourceKind]), name="resource_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class OpeningHours(models.Model):
    """One bookable interval on a weekday, in the resource's local time.

    A resource without any rows is bookable around the clock; with rows, a booking must
    fit inside one interval of its (local) day.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["resource", "weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="openinghours_weekday_valid"
            ),
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")), name="openinghours_closes_after_opens"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Blackout(models.Model):
    """A period nobody may book: one resource, or every resource when resource is empty."""

    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.CASCADE, related_name="blackouts"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["end", "start"], name="blackout_span_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="blackout_end_after_start")
        ]

    def __str__(self) -> str:
        where = self.resource.name if self.resource is not None else "all resources"
        return f"{where}: {self.reason}"
