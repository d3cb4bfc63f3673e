"""The signed-in helper leaves the session as a real sign-in would."""

from tests.accounts.helpers import signed_in_client


def test_signed_in_client_gives_a_verified_session(client, alice):
    signed_in_client(client, alice)

    response = client.get("/accounts/")

    assert response.status_code == 200
    assert response.wsgi_request.user == alice
    assert response.wsgi_request.user.is_verified()
