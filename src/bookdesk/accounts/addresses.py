"""The one form of an email address: what is stored, looked up, rate-limited and locked out.

Two spellings that reach the same account must also share its lockout. Python's
``lower()`` and the database's case-insensitive match disagree (PostgreSQL's ``UPPER``
maps U+017F LATIN SMALL LETTER LONG S to ``S``, which ``lower()`` leaves alone), so the key
counting failures and the row found could differ. One function decides instead: Unicode
NFKC (compatibility forms such as U+017F, U+212A KELVIN SIGN or fullwidth letters become
their plain letters), then full case folding (``ß`` is ``ss``), then NFKC again so the
result is stable. Stored addresses are in this form and every lookup is an exact match
on it, never the database's own case rules.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 254


def normalise_email(raw: str | None) -> str:
    text = unicodedata.normalize("NFKC", raw or "")
    # Trimmed last: NFKC can turn a character into a space and a combining mark.
    return unicodedata.normalize("NFKC", text.casefold()).strip()[:MAX_LENGTH]
