"""The Django admin: only admins, and only with a session that passed the second factor."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def test_a_verified_approver_is_refused(client, bob):
    signed_in_client(client, bob)

    response = client.get("/admin/")

    assert response.status_code == 302


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
