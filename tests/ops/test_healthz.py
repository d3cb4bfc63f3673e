import requests


def test_healthz_answers_without_the_database(client):
    # No database fixture here: pytest-django raises on any query, so this proves no I/O.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_healthz_answers_a_probe_by_ip_address_that_is_not_an_allowed_host(client):
    response = client.get("/healthz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200


def test_other_pages_still_check_the_host(client):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_gunicorn_serves_healthz_with_a_request_id(app_server):
    response = requests.get(f"{app_server.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.text == "ok\n"
