"""Accessibility of the booking pages in a real browser: axe-core finds nothing serious.

The app runs under gunicorn against the test database; headless Chromium opens each page
with a signed-in admin session (made in the database, as the real sign-in would leave it)
and runs axe-core from node_modules. Serious and critical violations fail the test;
lesser ones are printed for a human to judge. The same browser then checks that dragging
over free time in one resource's calendar opens the booking form for that slot.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from bookdesk.bookings import services
from bookdesk.resources.models import Resource
from tests.accounts.helpers import signed_in_client
from tests.bookings.conftest import at
from tests.conftest import PROJECT_DIR, start_app_server, stop_app_server

pytestmark = [pytest.mark.browser, pytest.mark.live]

AXE = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def seed(admin, requester):
    """Enough data that every page shows its full self: lists, calendar events, history."""
    group = Group.objects.create(name="Hall approvers")
    room = Resource.objects.create(name="Room 1", capacity=8, timezone="UTC", location="Floor 1")
    hall = Resource.objects.create(
        name="Great Hall",
        kind="hall",
        capacity=200,
        timezone="Europe/Berlin",
        requires_approval=True,
    )
    hall.approver_groups.add(group)
    zone = hall.zone
    mine = services.booking_request(
        requester=admin, resource=room, start=at(1, 9), end=at(1, 10), title="Planning"
    )
    services.booking_request(
        requester=requester,
        resource=hall,
        start=at(1, 14, zone=zone),
        end=at(1, 16, zone=zone),
        title="Choir",
        attendees=40,
    )
    services.booking_request(
        requester=requester,
        resource=hall,
        start=at(1, 15, zone=zone),
        end=at(1, 17, zone=zone),
        title="Band",
        attendees=10,
    )
    return room, mine


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return result["violations"]


def test_booking_pages_have_no_serious_accessibility_violations(transactional_db, tmp_path):
    from playwright.sync_api import sync_playwright

    from bookdesk.accounts.models import Role, User

    assert AXE.exists(), "axe-core is missing: run npm ci"
    admin = User.objects.create_user("ada@example.com", "x" * 12, role=Role.ADMIN)
    requester = User.objects.create_user("rita@example.com", "x" * 12)
    room, booking = seed(admin, requester)
    session_id = signed_in_client(Client(), admin).cookies["sessionid"].value
    day = booking.start.date().isoformat()
    pages = {
        "home": "/",
        "calendar day": f"/calendar/?view=day&date={day}",
        "calendar week": f"/calendar/?view=week&date={day}",
        "calendar month": f"/calendar/?view=month&date={day}",
        "calendar of one resource": f"/calendar/?view=week&resource={room.pk}&date={day}",
        "availability": f"/availability/?date={(booking.start + timedelta(days=1)).date()}"
        "&time_from=14:00&time_to=16:00&capacity=5",
        "booking form": "/book/",
        "my bookings": "/bookings/?when=all",
        "booking detail": f"/bookings/{booking.pk}/",
        "approvals inbox": "/approvals/",
        "audit log": "/audit/",
        "resources": "/resources/",
        "resource edit": f"/resources/{room.pk}/",
    }
    server = start_app_server(tmp_path, workers=1, threads=4)
    serious: dict[str, list] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "sessionid", "value": session_id, "url": server.url}])
            page = context.new_page()
            for name, path in pages.items():
                response = page.goto(server.url + path)
                assert response.status == 200, f"{name}: HTTP {response.status}"
                # Signed in as the admin (the page would be the sign-in form otherwise).
                assert page.locator("text=Audit log").count() >= 1, name
                if name.startswith("calendar"):
                    page.wait_for_selector(".fc-event", timeout=10_000)
                for violation in axe_violations(page):
                    summary = {
                        "rule": violation["id"],
                        "impact": violation["impact"],
                        "targets": [n["target"] for n in violation["nodes"]][:5],
                        "why": [n["failureSummary"][:300] for n in violation["nodes"]][:2],
                    }
                    if violation["impact"] in {"serious", "critical"}:
                        serious.setdefault(name, []).append(summary)
                    else:
                        print(f"{name}: {json.dumps(summary)}")
            # "Choose all" in the inbox ticks every request.
            page.goto(server.url + pages["approvals inbox"])
            page.check("#choose-all-booking")
            boxes = page.locator('input[name="booking"]')
            assert boxes.count() == 2
            assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
            # Dragging over free time in one resource's week opens the prefilled form.
            page.goto(server.url + pages["calendar of one resource"])
            page.wait_for_selector(".fc-event")
            column = page.locator(f'td.fc-timegrid-col[data-date="{day}"]').bounding_box()
            top = page.locator('td.fc-timegrid-slot-lane[data-time="11:00:00"]').bounding_box()
            low = page.locator('td.fc-timegrid-slot-lane[data-time="11:30:00"]').bounding_box()
            x = column["x"] + column["width"] / 2
            page.mouse.move(x, top["y"] + 3)
            page.mouse.down()
            page.mouse.move(x, low["y"] + low["height"] / 2, steps=5)
            page.mouse.up()
            page.wait_for_url("**/book/**")
            assert page.input_value("#id_start") == f"{day}T11:00"
            assert page.input_value("#id_end") == f"{day}T12:00"
            browser.close()
    finally:
        stop_app_server(server)
    assert serious == {}, json.dumps(serious, indent=2)
