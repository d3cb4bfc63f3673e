"""Bookings and recurring series.

No two bookings that hold a slot may overlap on one resource. On PostgreSQL an exclusion
constraint holds that rule (added by migration 0002, since SQLite has no equivalent); on
SQLite the services check it inside an IMMEDIATE transaction, which serialises writers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

NO_OVERLAP_CONSTRAINT = "bookings_booking_no_overlap"


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


OPEN_STATUSES = (BookingStatus.PENDING, BookingStatus.APPROVED)


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class BookingSeries(models.Model):
    """The rule a set of recurring bookings was made from (expanded in the resource's zone)."""

    resource = models.ForeignKey(
        "resources.Resource", on_delete=models.CASCADE, related_name="series"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="booking_series"
    )
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    interval = models.PositiveSmallIntegerField(default=1)
    count = models.PositiveSmallIntegerField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "booking series"
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency__in=[f.value for f in Frequency]),
                name="bookingseries_frequency_valid",
            ),
            models.CheckConstraint(
                condition=Q(count__isnull=False) | Q(until__isnull=False),
                name="bookingseries_has_end",
            ),
            models.CheckConstraint(condition=Q(interval__gte=1), name="bookingseries_interval_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} series #{self.pk}"


class Booking(models.Model):
    resource = models.ForeignKey(
        # db_index off: the (resource, start) index below serves lookups by resource.
        "resources.Resource",
        on_delete=models.PROTECT,
        related_name="bookings",
        db_index=False,
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    title = models.CharField(max_length=200)
    purpose = models.TextField(blank=True)
    attendees = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING
    )
    # Whether this booking blocks its slot: approved, or pending on a resource whose
    # pending requests hold. Stored so the database constraint can use it.
    holds_slot = models.BooleanField(default=False)
    series = models.ForeignKey(
        BookingSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not stored: set on the bookings that some reads and changes return.
    conflicts: list[Booking]  # selectors.with_conflicts: open bookings overlapping this one
    auto_rejected: list[Booking]  # services.booking_approve: requests rejected with it
    cancelled: list[Booking]  # services.booking_cancel: this one and the following ones

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["resource", "start"], name="booking_resource_start_idx"),
            models.Index(fields=["requester", "start"], name="booking_requester_start_idx"),
            models.Index(fields=["status", "created_at"], name="booking_status_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in BookingStatus]),
                name="booking_status_valid",
            ),
            models.CheckConstraint(condition=Q(attendees__gte=1), name="booking_attendees_pos"),
            # A closed booking never blocks anyone.
            models.CheckConstraint(
                condition=Q(holds_slot=False) | Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="booking_holds_only_when_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.start:%Y-%m-%d %H:%M} UTC)"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
