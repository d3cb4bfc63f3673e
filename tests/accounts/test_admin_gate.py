"""The Django admin: only admins, and only with a session that passed the second factor."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["alice", "bob"])
@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/bookings/booking/", "/admin/accounts/user/1/change/"]
)
def test_a_signed_in_non_admin_gets_403_not_a_redirect_loop(client, request, persona, path):
    """Regression: the admin sent them to sign in, which sent them back to the admin."""
    signed_in_client(client, request.getfixturevalue(persona))

    response = client.get(path, follow=True)

    assert response.status_code == 403
    assert len(response.redirect_chain) <= 1


def test_an_admin_without_the_second_factor_is_refused(client, carol):
    client.force_login(carol)

    response = client.get("/admin/")

    assert response.status_code == 302


def test_a_verified_admin_gets_in(client, carol):
    signed_in_client(client, carol)

    response = client.get("/admin/")

    assert response.status_code == 200


def test_the_admin_login_form_sends_people_to_the_real_sign_in(client, db):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
