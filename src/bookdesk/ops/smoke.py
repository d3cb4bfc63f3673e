"""Smoke tests against a running Bookdesk, over HTTP only (`bookdesk smoke --base-url URL`).

The critical flows, the way a person uses them, against any environment: sign in with an
authenticator code, request the smoke resource (it needs approval), approve the request as
the smoke approver, attach a file and download it again, export the booking as CSV and
XLSX and read both back, then remove what the run made. One line per check; the exit
status is 1 when any check failed.

The accounts and the resource are made by `bookdesk smoke_setup` (smoke_accounts.py) from
the same environment variables this reads (docs/pipeline.md):
SMOKE_REQUESTER_EMAIL, SMOKE_REQUESTER_PASSWORD, SMOKE_REQUESTER_TOTP_SECRET,
SMOKE_APPROVER_EMAIL, SMOKE_APPROVER_PASSWORD, SMOKE_APPROVER_TOTP_SECRET and, optionally,
SMOKE_RESOURCE_NAME and SMOKE_CA_FILE (a CA bundle for a site with a private certificate).

Nothing here imports Django: the client runs from any machine with the package installed.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

DEFAULT_RESOURCE_NAME = "Smoke test (automated, do not book)"
TOTP_STEP = 30
ACCOUNTS = ("requester", "approver")


class CheckFailed(Exception):
    """A check's plain-words reason."""


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    totp_secret: str  # base32, as authenticator apps show it


@dataclass(frozen=True)
class SmokeConfig:
    base_url: str
    requester: Account
    approver: Account
    resource_name: str = DEFAULT_RESOURCE_NAME
    ca_file: str | None = None
    timeout: float = 20.0


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (blank lines and # comments ignored; quotes around values dropped)."""
    values = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def config_from_env(base_url: str, env: dict[str, str]) -> SmokeConfig:
    """The configuration, or ValueError naming every variable that is missing."""
    missing = []

    def need(name: str) -> str:
        value = env.get(name, "")
        if not value:
            missing.append(name)
        return value

    accounts = {
        who: Account(
            email=need(f"SMOKE_{who.upper()}_EMAIL"),
            password=need(f"SMOKE_{who.upper()}_PASSWORD"),
            totp_secret=need(f"SMOKE_{who.upper()}_TOTP_SECRET"),
        )
        for who in ACCOUNTS
    }
    if missing:
        raise ValueError(f"set {', '.join(missing)} (see docs/pipeline.md, smoke tests)")
    return SmokeConfig(
        base_url=base_url.rstrip("/"),
        requester=accounts["requester"],
        approver=accounts["approver"],
        resource_name=env.get("SMOKE_RESOURCE_NAME") or DEFAULT_RESOURCE_NAME,
        ca_file=env.get("SMOKE_CA_FILE") or None,
    )


# --- authenticator codes (RFC 6238, as django-otp's TOTPDevice checks them) ----------------


def totp_key(secret: str) -> bytes:
    cleaned = "".join(secret.split()).upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def totp_code(secret: str, at: float | None = None) -> str:
    from django_otp.oath import hotp

    counter = int((time.time() if at is None else at) // TOTP_STEP)
    return f"{hotp(totp_key(secret), counter):06d}"


def wait_for_fresh_step(margin: float = 3.0) -> None:
    """Do not start a code in the last seconds of its step: it could expire on the way."""
    left = TOTP_STEP - time.time() % TOTP_STEP
    if left < margin:
        time.sleep(left + 0.2)


# --- one signed-in browser-like session ---------------------------------------------------


class Session:
    def __init__(self, config: SmokeConfig, who: str):
        self.who = who
        self.config = config
        verify: bool | str = config.ca_file or True
        # Origin and Referer as a browser on the site sends them: Django checks both on
        # CSRF-protected requests over HTTPS.
        self.http = httpx.Client(
            base_url=config.base_url,
            timeout=config.timeout,
            verify=verify,
            headers={
                "Origin": config.base_url,
                "Referer": f"{config.base_url}/",
                "User-Agent": "bookdesk-smoke",
                "Accept": "application/json",
            },
            follow_redirects=False,
        )
        self.csrf = ""

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, *, expect: int | tuple = 200, **kwargs):
        headers = kwargs.pop("headers", {})
        if method != "GET" and self.csrf:
            headers["X-CSRFToken"] = self.csrf
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise CheckFailed(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        expected = expect if isinstance(expect, tuple) else (expect,)
        if response.status_code not in expected:
            raise CheckFailed(f"{method} {path}: HTTP {response.status_code} {_brief(response)}")
        return response

    def sign_in(self, account: Account) -> dict:
        self.csrf = self.request("GET", "/api/v1/auth/csrf").json()["csrf_token"]
        started = self.request(
            "POST",
            "/api/v1/auth/login",
            json={"email": account.email, "password": account.password},
        ).json()
        if started.get("method") != "totp":
            raise CheckFailed(
                f"{account.email} signs in with {started.get('method')!r} codes, not an "
                "authenticator app: run `bookdesk smoke_setup` in this environment"
            )
        wait_for_fresh_step()
        response = self.request(
            "POST",
            "/api/v1/auth/otp",
            json={"challenge": started["challenge"], "code": totp_code(account.totp_secret)},
            expect=(200, 401),
        )
        if response.status_code == 401 and response.json().get("error") == "invalid_code":
            # django-otp takes each code once: a run in the same 30 s used this one.
            time.sleep(TOTP_STEP - time.time() % TOTP_STEP + 0.5)
            response = self.request(
                "POST",
                "/api/v1/auth/otp",
                json={"challenge": started["challenge"], "code": totp_code(account.totp_secret)},
                expect=(200, 401),
            )
        if response.status_code != 200:
            raise CheckFailed(f"the code step answered HTTP 401 {_brief(response)}")
        # The session key changed at sign-in; so did the CSRF token.
        self.csrf = self.http.cookies.get("csrftoken") or self.csrf
        me = response.json()
        if me.get("email", "").lower() != account.email.lower():
            raise CheckFailed(f"signed in as {me.get('email')!r}, not {account.email}")
        return me

    def sign_out(self) -> None:
        if self.csrf:
            self.request("POST", "/api/v1/auth/logout", expect=(204, 401, 403))


def _brief(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200]


# --- the run --------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    ok: bool | None  # None: not run, because a check it needs failed
    seconds: float
    detail: str = ""

    def line(self) -> str:
        state = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        text = f"{state}  {self.name:<17} {self.seconds:6.2f}s"
        return f"{text}  {self.detail}" if self.detail else text


@dataclass
class SmokeRun:
    config: SmokeConfig
    echo: Callable[[str], None] = print
    results: list[Result] = field(default_factory=list)
    made: dict = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))

    def check(self, name: str, fn: Callable[[], str | None], *, needs: tuple = ()) -> bool:
        missing = [n for n in needs if n not in self.made]
        if missing:
            result = Result(name, None, 0.0, f"needs {', '.join(missing)}, which failed")
        else:
            started = time.monotonic()
            try:
                detail = fn() or ""
                result = Result(name, True, time.monotonic() - started, detail)
            except CheckFailed as exc:
                result = Result(name, False, time.monotonic() - started, str(exc))
            except Exception as exc:  # any surprise is this check's failure, said plainly
                detail = f"{type(exc).__name__}: {exc}"
                result = Result(name, False, time.monotonic() - started, detail)
        self.results.append(result)
        self.echo(result.line())
        return bool(result.ok)

    @property
    def passed(self) -> bool:
        return all(r.ok for r in self.results)


def run(config: SmokeConfig, echo: Callable[[str], None] = print) -> SmokeRun:
    smoke = SmokeRun(config=config, echo=echo)
    requester = Session(config, "requester")
    approver = Session(config, "approver")
    made = smoke.made
    try:
        smoke.check("health", lambda: _health(requester))
        if smoke.check("signin-requester", lambda: _signin(requester, config.requester)):
            made["requester"] = True
        if smoke.check("signin-approver", lambda: _signin(approver, config.approver)):
            made["approver"] = True
        smoke.check("resource", lambda: _resource(requester, config, made), needs=("requester",))
        smoke.check("book", lambda: _book(requester, smoke), needs=("resource",))
        smoke.check("approve", lambda: _approve(approver, made), needs=("booking", "approver"))
        smoke.check("upload", lambda: _upload(requester, smoke), needs=("booking",))
        smoke.check("download", lambda: _download(requester, made), needs=("attachment",))
        smoke.check("export-csv", lambda: _export_csv(requester, made), needs=("booking",))
        smoke.check("export-xlsx", lambda: _export_xlsx(requester, made), needs=("booking",))
    finally:
        # Cleaned up whatever happened above: a failed run leaves nothing behind either.
        if "booking" in made:
            smoke.check("cleanup", lambda: _cleanup(requester, made))
        for session in (requester, approver):
            # Signing out is courtesy; the session expires on its own anyway.
            with contextlib.suppress(CheckFailed):
                session.sign_out()
            session.close()
    return smoke


def _health(session: Session) -> str:
    response = session.request("GET", "/readyz", expect=(200, 503))
    body = response.json()
    if response.status_code != 200 or body.get("status") not in {"pass", "warn"}:
        failing = [
            name
            for name, checks in (body.get("checks") or {}).items()
            if any(c.get("status") == "fail" for c in checks)
        ]
        raise CheckFailed(f"/readyz is {body.get('status')!r}: failing {', '.join(failing)}")
    return f"readyz {body['status']}, release {body.get('releaseId', '?')}"


def _signin(session: Session, account: Account) -> str:
    me = session.sign_in(account)
    return f"{me['email']} ({me['role']})"


def _resource(session: Session, config: SmokeConfig, made: dict) -> str:
    resources = session.request("GET", "/api/v1/resources").json()
    found = [r for r in resources if r["name"] == config.resource_name]
    if not found:
        raise CheckFailed(
            f"no resource named {config.resource_name!r}: run `bookdesk smoke_setup` here"
        )
    resource = found[0]
    if not resource["requires_approval"]:
        raise CheckFailed(f"{config.resource_name!r} does not need approval; smoke_setup sets it")
    made["resource"] = resource
    return f"#{resource['id']}"


def _slot(resource: dict, attempt: int) -> tuple[datetime, datetime]:
    # A week ahead, on a whole quarter hour, spread out so parallel or leftover runs
    # seldom meet; each retry moves on by an hour.
    base = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=7)
    base -= timedelta(minutes=base.minute % 15)
    offset = secrets.randbelow(96 * 20) * 15 + attempt * 60
    start = base + timedelta(minutes=offset)
    minutes = max(resource.get("min_duration_minutes") or 15, 15)
    return start, start + timedelta(minutes=minutes)


def _book(session: Session, smoke: SmokeRun) -> str:
    resource = smoke.made["resource"]
    for attempt in range(5):
        start, end = _slot(resource, attempt)
        response = session.request(
            "POST",
            "/api/v1/bookings",
            json={
                "resource": resource["id"],
                "start": start.isoformat(),
                "end": end.isoformat(),
                "title": f"smoke {smoke.run_id}",
                "purpose": "Automated smoke test; removed at the end of the run.",
                "attendees": 1,
            },
            expect=(201, 409),
        )
        if response.status_code == 201:
            booking = response.json()
            smoke.made["booking"] = booking
            if booking["status"] != "pending":
                raise CheckFailed(f"booking #{booking['id']} is {booking['status']}, not pending")
            return f"#{booking['id']} pending, {start:%Y-%m-%d %H:%M}Z"
    raise CheckFailed("every slot tried was taken (409 five times)")


def _approve(session: Session, made: dict) -> str:
    booking_id = made["booking"]["id"]
    booking = session.request("POST", f"/api/v1/bookings/{booking_id}/approve").json()
    if booking["status"] != "approved":
        raise CheckFailed(f"booking #{booking_id} is {booking['status']} after approval")
    made["booking"] = booking
    return f"#{booking_id} approved by {booking['decided_by']}"


def _upload(session: Session, smoke: SmokeRun) -> str:
    booking_id = smoke.made["booking"]["id"]
    content = f"Bookdesk smoke test {smoke.run_id}\n{secrets.token_hex(16)}\n".encode()
    response = session.request(
        "POST",
        f"/api/v1/bookings/{booking_id}/attachments",
        files={"file": (f"smoke-{smoke.run_id}.txt", content, "text/plain")},
        expect=201,
    )
    attachment = response.json()
    smoke.made["attachment"] = attachment
    smoke.made["content"] = content
    if attachment["sha256"] != hashlib.sha256(content).hexdigest():
        raise CheckFailed("the stored file's sha256 is not the uploaded one's")
    return f"#{attachment['id']}, {attachment['size']} bytes"


def _download(session: Session, made: dict) -> str:
    attachment = made["attachment"]
    response = session.request("GET", f"/api/v1/attachments/{attachment['id']}")
    if response.content != made["content"]:
        raise CheckFailed(f"downloaded {len(response.content)} bytes that differ from the upload")
    return f"{len(response.content)} bytes, same as uploaded"


def _export_query(made: dict) -> dict:
    day = datetime.fromisoformat(made["booking"]["start"]).astimezone(UTC).date().isoformat()
    return {"resource": made["resource"]["id"], "from": day, "to": day}


def _expect_row(rows: list[dict], made: dict, fmt: str) -> str:
    booking = made["booking"]
    mine = [r for r in rows if str(r.get("id")) == str(booking["id"])]
    if not mine:
        raise CheckFailed(f"booking #{booking['id']} is not in the {fmt} export ({len(rows)} rows)")
    row = mine[0]
    if row.get("status") != "approved" or row.get("title") != booking["title"]:
        raise CheckFailed(
            f"the {fmt} row says {row.get('status')!r}/{row.get('title')!r}, "
            f"the booking approved/{booking['title']!r}"
        )
    return f"{len(rows)} rows, booking #{booking['id']} approved"


def _export_csv(session: Session, made: dict) -> str:
    response = session.request(
        "GET", "/api/v1/exports/bookings.csv", params=_export_query(made), headers={"Accept": "*/*"}
    )
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows and "id" not in text.split("\n", 1)[0]:
        raise CheckFailed("the CSV has no header row")
    return _expect_row(rows, made, "CSV")


def _export_xlsx(session: Session, made: dict) -> str:
    from openpyxl import load_workbook

    response = session.request(
        "GET",
        "/api/v1/exports/bookings.xlsx",
        params=_export_query(made),
        headers={"Accept": "*/*"},
    )
    try:
        book = load_workbook(io.BytesIO(response.content), read_only=True)
    except Exception as exc:  # a corrupt file is the finding
        raise CheckFailed(f"the XLSX does not open: {type(exc).__name__}: {exc}") from None
    sheet = book.worksheets[0]
    lines = list(sheet.iter_rows(values_only=True))
    book.close()
    if not lines:
        raise CheckFailed("the XLSX is empty")
    header = [str(h) for h in lines[0]]
    rows = [dict(zip(header, line, strict=False)) for line in lines[1:]]
    return _expect_row(rows, made, "XLSX")


def _cleanup(session: Session, made: dict) -> str:
    done = []
    if "attachment" in made:
        session.request("DELETE", f"/api/v1/attachments/{made['attachment']['id']}", expect=204)
        done.append(f"attachment #{made['attachment']['id']} deleted")
    booking_id = made["booking"]["id"]
    cancelled = session.request(
        "POST", f"/api/v1/bookings/{booking_id}/cancel", json={"scope": "one"}
    ).json()
    if not any(b["id"] == booking_id and b["status"] == "cancelled" for b in cancelled):
        raise CheckFailed(f"booking #{booking_id} is not among those cancelled: {cancelled!r}")
    done.append(f"booking #{booking_id} cancelled")
    return "; ".join(done)


def main_from_env(base_url: str, env: dict[str, str] | None = None, echo=print) -> int:
    # One line per check is the output; httpx's line per request would bury it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = config_from_env(base_url, dict(os.environ if env is None else env))
    except ValueError as exc:
        echo(f"smoke: cannot start: {exc}")
        return 2
    echo(f"smoke: {config.base_url}")
    smoke = run(config, echo=echo)
    failed = [r.name for r in smoke.results if not r.ok]
    if failed:
        echo(f"smoke: FAILED: {', '.join(failed)}")
        return 1
    echo(f"smoke: passed ({len(smoke.results)} checks)")
    return 0
