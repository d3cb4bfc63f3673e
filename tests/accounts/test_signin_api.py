"""Sign-in through the API: password step, then the emailed code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.sessions.models import Session
from django.utils import timezone

from bookdesk.accounts.models import SignInChallenge
from tests.accounts.conftest import code_in

pytestmark = pytest.mark.django_db

GENERIC = {
    "error": "invalid_credentials",
    "detail": "Those details don't match an account. Check them and try again.",
}


def test_it_answers_the_password_step_with_a_challenge_and_emails_a_code(api, alice, mailoutbox):
    response = api.login(alice.email)

    assert response.status_code == 200
    body = response.json()
    assert body["otp_required"] is True
    assert body["method"] == "email"
    assert len(body["challenge"]) >= 40
    assert [m.to for m in mailoutbox] == [[alice.email]]
    assert code_in(mailoutbox[0]) in mailoutbox[0].body


def test_the_code_step_signs_the_session_in_and_verifies_it(api, alice, mailoutbox):
    challenge = api.login(alice.email).json()["challenge"]

    response = api.otp(challenge, code_in(mailoutbox[0]))

    assert response.status_code == 200
    assert response.json()["email"] == alice.email
    me = api.get("/api/v1/me")
    assert me.status_code == 200
    assert me.wsgi_request.user.is_verified()


def test_the_password_step_alone_does_not_sign_in(api, alice, mailoutbox):
    api.login(alice.email)

    assert api.get("/api/v1/me").status_code == 401
    assert api.get("/accounts/").status_code == 302


def test_the_code_is_six_digits(api, alice, mailoutbox):
    api.login(alice.email)

    code = code_in(mailoutbox[0])
    assert len(code) == 6 and code.isdigit()


def test_the_code_is_stored_only_as_a_hash(api, alice, mailoutbox):
    raw_challenge = api.login(alice.email).json()["challenge"]
    code = code_in(mailoutbox[0])

    row = SignInChallenge.objects.get()
    stored = " ".join(str(v) for v in row.__dict__.values())
    assert code not in stored
    assert raw_challenge not in stored
    assert len(row.code_hash) == 64


def test_wrong_password_gets_the_generic_401(api, alice, mailoutbox):
    response = api.login(alice.email, "not the password")

    assert response.status_code == 401
    assert response.json() == GENERIC
    assert mailoutbox == []


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(api, alice):
    wrong = api.login(alice.email, "not the password")
    unknown = api.login("nobody@example.com", "not the password")

    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())


def test_inactive_account_gets_the_same_answer_as_a_wrong_password(api, alice):
    alice.is_active = False
    alice.save()

    response = api.login(alice.email)

    assert (response.status_code, response.json()) == (401, GENERIC)


def test_a_locked_account_gets_the_same_answer_even_with_the_right_password(
    api, alice, settings, mailoutbox
):
    settings.LOCKOUT_THRESHOLD = 3
    for _ in range(3):
        api.login(alice.email, "not the password")

    locked = api.login(alice.email)
    unknown = api.login("nobody@example.com", "not the password")

    assert (locked.status_code, locked.json()) == (401, GENERIC)
    assert (unknown.status_code, unknown.json()) == (401, GENERIC)
    assert mailoutbox == []


class CountingHasher(PBKDF2PasswordHasher):
    """The real PBKDF2 hasher, counting how often it runs."""

    algorithm = "pbkdf2_sha256"
    calls = 0
    iterations = 1000

    def encode(self, password, salt, iterations=None):
        type(self).calls += 1
        return super().encode(password, salt, iterations)


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.test_signin_api.CountingHasher"]
    CountingHasher.calls = 0
    return CountingHasher


def test_unknown_email_still_runs_the_password_hasher(api, counting_hasher):
    api.login("nobody@example.com", "whatever")

    assert counting_hasher.calls == 1


def test_a_locked_account_still_runs_the_password_hasher(api, alice, settings, counting_hasher):
    alice.set_password("correct horse battery staple")
    alice.save()
    settings.LOCKOUT_THRESHOLD = 1
    api.login(alice.email, "not the password")
    counting_hasher.calls = 0

    api.login(alice.email)

    assert counting_hasher.calls == 1


def test_login_requires_the_csrf_token(api, alice, mailoutbox):
    response = api.login(alice.email, csrf=False)

    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"
    assert mailoutbox == []


def test_the_code_step_requires_the_csrf_token(api, alice, mailoutbox):
    challenge = api.login(alice.email).json()["challenge"]

    response = api.otp(challenge, code_in(mailoutbox[0]), csrf=False)

    assert response.status_code == 403
    assert api.get("/api/v1/me").status_code == 401


def test_the_csrf_endpoint_sets_the_cookie(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.get("/api/v1/auth/csrf")

    assert response.status_code == 200
    assert response.cookies["csrftoken"].value
    assert response.json()["csrf_token"]


def test_a_code_from_one_attempt_fails_in_another(api, api_factory, alice, mailoutbox):
    api.login(alice.email)
    code_a = code_in(mailoutbox[0])
    while True:  # on the one-in-a-million draw of the same code, open another attempt
        other = api_factory()
        challenge_b = other.login(alice.email).json()["challenge"]
        if code_in(mailoutbox[-1]) != code_a:
            break

    response = other.otp(challenge_b, code_a)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_code"
    assert other.get("/api/v1/me").status_code == 401


def test_a_code_works_only_once(api, api_factory, alice, mailoutbox):
    challenge = api.login(alice.email).json()["challenge"]
    code = code_in(mailoutbox[0])
    assert api.otp(challenge, code).status_code == 200

    replay = api_factory().otp(challenge, code)

    assert replay.status_code == 401
    assert replay.json()["error"] == "challenge_invalid"


def test_a_code_expires_after_its_lifetime(api, alice, mailoutbox, settings):
    challenge = api.login(alice.email).json()["challenge"]
    SignInChallenge.objects.update(code_expires_at=timezone.now() - timedelta(seconds=1))

    response = api.otp(challenge, code_in(mailoutbox[0]))

    assert response.status_code == 401
    assert response.json()["error"] == "code_expired"


def test_the_code_lifetime_is_the_setting(api, alice, mailoutbox, settings):
    before = timezone.now()
    api.login(alice.email)

    row = SignInChallenge.objects.get()
    assert before + settings.OTP_CODE_TTL <= row.code_expires_at
    assert row.code_expires_at <= timezone.now() + settings.OTP_CODE_TTL


def test_five_wrong_codes_end_the_attempt(api, alice, mailoutbox, settings):
    settings.LOCKOUT_THRESHOLD = 50  # keep the account lock out of this rule's way
    challenge = api.login(alice.email).json()["challenge"]
    code = code_in(mailoutbox[0])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answers = [api.otp(challenge, wrong).json()["error"] for _ in range(5)]

    right = api.otp(challenge, code)

    assert answers == ["invalid_code"] * 4 + ["challenge_invalid"]
    assert right.status_code == 401
    assert right.json()["error"] == "challenge_invalid"


def test_a_new_code_can_be_sent_after_the_cooldown(api, alice, mailoutbox):
    challenge = api.login(alice.email).json()["challenge"]
    SignInChallenge.objects.update(code_sent_at=timezone.now() - timedelta(seconds=61))

    response = api.post("/api/v1/auth/otp/resend", {"challenge": challenge})

    assert response.status_code == 200
    assert len(mailoutbox) == 2
    # The new code replaces the old one.
    assert api.otp(challenge, code_in(mailoutbox[0])).status_code in (401,)
    assert api.otp(challenge, code_in(mailoutbox[1])).status_code == 200


def test_resend_inside_the_cooldown_is_refused_with_retry_after(api, alice, mailoutbox):
    challenge = api.login(alice.email).json()["challenge"]

    response = api.post("/api/v1/auth/otp/resend", {"challenge": challenge})

    assert response.status_code == 429
    assert response.json()["error"] == "resend_too_soon"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert len(mailoutbox) == 1


def test_at_most_five_code_emails_per_account_per_hour(api_factory, alice, mailoutbox):
    answers = [api_factory().login(alice.email) for _ in range(6)]

    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[5].json()["error"] == "too_many_codes"
    assert int(answers[5]["Retry-After"]) > 0
    assert len(mailoutbox) == 5


def test_the_session_key_changes_after_the_password_step(api, alice, mailoutbox):
    api.get("/accounts/login/")  # an anonymous session exists before signing in
    api.client.session.save()
    before = api.session_key
    assert before

    api.login(alice.email)

    assert api.session_key and api.session_key != before


def test_the_session_key_changes_after_the_code_step(api, alice, mailoutbox):
    challenge = api.login(alice.email).json()["challenge"]
    after_password = api.session_key

    api.otp(challenge, code_in(mailoutbox[0]))

    assert api.session_key and api.session_key != after_password
    assert not Session.objects.filter(session_key=after_password).exists()


def test_logout_ends_the_session_on_the_server(signed_in_api, api_factory):
    old_key = signed_in_api.session_key

    response = signed_in_api.post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert not Session.objects.filter(session_key=old_key).exists()
    # Replaying the old cookie gets nowhere.
    replay = api_factory()
    replay.client.cookies["sessionid"] = old_key
    assert replay.get("/api/v1/me").status_code == 401


def test_errors_are_json_in_one_shape(api):
    response = api.post("/api/v1/auth/login", {"email": "x"})

    assert response.status_code == 422
    assert set(response.json()) == {"error", "detail"}


def test_logout_requires_the_csrf_token(signed_in_api):
    response = signed_in_api.post("/api/v1/auth/logout", csrf=False)

    assert response.status_code == 403
    assert signed_in_api.get("/api/v1/me").status_code == 200
