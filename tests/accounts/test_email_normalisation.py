"""One form of an address for storing, finding, rate-limiting and locking out an account.

Regression: on PostgreSQL the account was found with the database's case-insensitive
match while failures were counted under Python's lower(); "\u017fue@example.com" found
Sue's account but counted its guesses under another key, so the lockout never came.
The cases are characters whose case mappings differ between Python, Unicode's case
folding and PostgreSQL: U+017F, U+212A KELVIN SIGN, U+0130, ß and U+1E9E, fullwidth and
ligature compatibility forms.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bookdesk.accounts.addresses import normalise_email
from bookdesk.accounts.lockout import account_key
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# (stored account, another spelling of it)
SAME_ACCOUNT = [
    ("sue@example.com", "\u017fue@example.com"),  # LATIN SMALL LETTER LONG S
    ("sue@example.com", "SUE@EXAMPLE.COM"),
    ("kim@example.com", "\u212aim@example.com"),  # KELVIN SIGN
    ("strasse@example.com", "straße@example.com"),
    ("strasse@example.com", "STRA\u1e9eE@example.com"),  # LATIN CAPITAL LETTER SHARP S
    ("sue@example.com", "\uff33\uff35\uff25@example.com"),  # fullwidth SUE
    ("fiona@example.com", "\ufb01ona@example.com"),  # LATIN SMALL LIGATURE FI
]
# Spellings some case rules would match to the account but the one form does not.
OTHER_ACCOUNT = [
    ("ilse@example.com", "\u0130lse@example.com"),  # folds to i + U+0307
    ("ilse@example.com", "\u0131lse@example.com"),  # dotless i
]


def make_user(email):
    from bookdesk.accounts.models import Role, User

    return User.objects.create_user(email, PASSWORD, role=Role.REQUESTER)


@pytest.mark.parametrize(("stored", "spelling"), SAME_ACCOUNT, ids=repr)
def test_another_spelling_of_an_address_shares_its_lockout(
    api, settings, mailoutbox, stored, spelling
):
    user = make_user(stored)
    settings.LOCKOUT_THRESHOLD = 3
    for _ in range(3):
        assert api.login(spelling, "not the password").status_code == 401
    # The real address, right password: locked out, and no code is mailed.
    assert api.login(user.email, PASSWORD).status_code == 401
    assert api.login(spelling, PASSWORD).status_code == 401
    assert mailoutbox == []
    assert account_key(spelling) == account_key(user.email)


@pytest.mark.parametrize(("stored", "spelling"), OTHER_ACCOUNT, ids=repr)
def test_a_spelling_that_is_not_the_address_neither_finds_nor_locks_it(
    api, settings, mailoutbox, stored, spelling
):
    user = make_user(stored)
    settings.LOCKOUT_THRESHOLD = 3
    for _ in range(3):
        assert api.login(spelling, PASSWORD).status_code == 401
    assert mailoutbox == []
    response = api.login(user.email, PASSWORD)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("stored", "spelling"), SAME_ACCOUNT, ids=repr)
def test_the_address_is_stored_in_one_form_and_cannot_be_registered_twice(stored, spelling):
    from django.db import IntegrityError, transaction

    user = make_user(spelling)
    assert user.email == stored
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user(stored)


@pytest.mark.parametrize(("stored", "spelling"), SAME_ACCOUNT + OTHER_ACCOUNT, ids=repr)
def test_password_reset_finds_exactly_the_accounts_sign_in_finds(
    client, mailoutbox, stored, spelling
):
    from bookdesk.accounts.forms import QueuedPasswordResetForm

    user = make_user(stored)
    found = list(QueuedPasswordResetForm().get_users(spelling))
    reaches = account_key(spelling) == account_key(user.email)
    assert found == ([user] if reaches else [])


@hypothesis_settings(max_examples=300, derandomize=True)
@given(st.text(max_size=40))
def test_the_one_form_is_stable(text):
    once = normalise_email(text)
    assert normalise_email(once) == once
    assert normalise_email(f"  {text}\t") == normalise_email(text.strip()) or text != text.strip()
