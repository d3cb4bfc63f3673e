"""API tokens (filled in by the accounts work): ``user_for_token(raw)`` returns the user or None."""


def user_for_token(raw: str):
    return None
