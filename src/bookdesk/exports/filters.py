"""Export filters, read the same way from the API's query string and the exports page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bookdesk.bookings.models import BookingStatus
from bookdesk.core.errors import Invalid


class FilterError(Invalid):
    """A filter value is malformed; ``detail`` is a list of {loc, msg}, as the API's other
    invalid requests say it."""

    def __init__(self, detail: list[dict]) -> None:
        super().__init__("; ".join(d["msg"] for d in detail), detail=detail)


@dataclass(frozen=True)
class ExportFilters:
    """Bookings overlapping the days ``date_from``..``date_to`` (inclusive, UTC days)."""

    date_from: date | None = None
    date_to: date | None = None
    resources: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    requester: str | None = None  # an email address or a user id

    @property
    def window(self) -> tuple[datetime | None, datetime | None]:
        start = datetime.combine(self.date_from, time(0), tzinfo=UTC) if self.date_from else None
        end = (
            datetime.combine(self.date_to + timedelta(days=1), time(0), tzinfo=UTC)
            if self.date_to
            else None
        )
        return start, end

    def as_dict(self) -> dict:
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat() if self.date_from else None
        data["date_to"] = self.date_to.isoformat() if self.date_to else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ExportFilters:
        return cls(
            date_from=date.fromisoformat(data["date_from"]) if data.get("date_from") else None,
            date_to=date.fromisoformat(data["date_to"]) if data.get("date_to") else None,
            resources=list(data.get("resources") or []),
            statuses=list(data.get("statuses") or []),
            requester=data.get("requester") or None,
        )


def _many(query, name: str) -> list[str]:
    # Accept both ?status=a&status=b and ?status=a,b.
    values: list[str] = []
    for raw in query.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def parse_filters(query) -> ExportFilters:
    """Read filters from a QueryDict; raises FilterError naming every bad value."""
    errors: list[dict] = []

    def day(name: str) -> date | None:
        raw = (query.get(name) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors.append(
                {"loc": ["query", name], "msg": f"{raw!r} is not a date; use YYYY-MM-DD."}
            )
            return None

    date_from, date_to = day("from"), day("to")
    if date_from and date_to and date_to < date_from:
        errors.append({"loc": ["query", "to"], "msg": "'to' is before 'from'."})

    resources = []
    for raw in _many(query, "resource"):
        if raw.isdigit():
            resources.append(int(raw))
        else:
            errors.append({"loc": ["query", "resource"], "msg": f"{raw!r} is not a resource id."})

    valid = {s.value for s in BookingStatus}
    statuses = _many(query, "status")
    for raw in statuses:
        if raw not in valid:
            errors.append(
                {
                    "loc": ["query", "status"],
                    "msg": f"{raw!r} is not a status; use {', '.join(sorted(valid))}.",
                }
            )
    requester = (query.get("requester") or "").strip() or None
    if errors:
        raise FilterError(errors)
    return ExportFilters(
        date_from=date_from,
        date_to=date_to,
        resources=sorted(set(resources)),
        statuses=sorted(set(statuses)),
        requester=requester,
    )
