"""Post-deploy checks (`bookdesk postdeploy`): is the release that just went live healthy?

1. readiness: /readyz answers pass (or warn) at every poll for a settle period;
2. smoke: the smoke tests (smoke.py) pass against the site;
3. alerts: Alertmanager has no alert for the environment that started firing since the
   deploy began (API v2, filtered by the environment label; older ones are listed only);
4. logs: the app wrote no more error lines since the deploy began than the threshold.

One line per check, exit status 1 with the reasons when any failed: the deploy rolls back
on that (`make rollback ENV=...`; deploy.yml and `make pipeline` do it). A check that was
not given what it needs fails rather than passing unseen; `--skip NAME` leaves one out on
purpose, and says so.

Logs come from sources named on the command line, each read in full and filtered by time:
`--log-file PATH` (a glob; the central rsyslog files "<rfc3339> <host> <program> <json>",
or plain JSON lines) and `--log-command CMD` (its output is read; `{since}` and
`{since_epoch}` are filled in), e.g. journald on an app host over SSH:
    --log-command "ssh app1 journalctl -u 'bookdesk-*' --since @{since_epoch} -o cat"
"""

from __future__ import annotations

import contextlib
import glob
import json
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from bookdesk.ops import smoke

ERROR_LEVELS = {"error", "critical", "exception", "fatal"}
CHECKS = ("readiness", "smoke", "alerts", "logs")
# Clocks of the deploying machine and the hosts differ a little.
CLOCK_SKEW = timedelta(seconds=5)
_CENTRAL_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\S+) (?P<host>\S+) (?P<program>\S+) (?P<msg>.*)$"
)
_LEVEL_TEXT = re.compile(r"\b(ERROR|CRITICAL|Traceback)\b")


def parse_time(text: str) -> datetime:
    """ISO 8601 (Z or offset; naive means UTC) or Unix seconds."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class PostDeployConfig:
    base_url: str
    environment: str
    since: datetime
    settle_seconds: float = 60.0
    interval_seconds: float = 5.0
    alertmanager_url: str | None = None
    env_label: str = "env"
    log_files: list[str] = field(default_factory=list)
    log_commands: list[str] = field(default_factory=list)
    max_error_lines: int = 0
    skip: set[str] = field(default_factory=set)
    smoke_env: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0


class CheckFailed(Exception):
    pass


# --- readiness ------------------------------------------------------------------------------


def check_readiness(config: PostDeployConfig, sleep=time.sleep) -> str:
    polls = max(1, round(config.settle_seconds / config.interval_seconds) + 1)
    statuses = []
    with httpx.Client(timeout=config.timeout) as http:
        for number in range(polls):
            if number:
                sleep(config.interval_seconds)
            try:
                response = http.get(f"{config.base_url}/readyz")
            except httpx.HTTPError as exc:
                raise CheckFailed(
                    f"poll {number + 1}/{polls}: {type(exc).__name__}: {exc}"
                ) from None
            try:
                body = response.json()
            except ValueError:
                body = {}
            status = body.get("status")
            if response.status_code != 200 or status not in {"pass", "warn"}:
                failing = [
                    name
                    for name, checks in (body.get("checks") or {}).items()
                    if any(c.get("status") == "fail" for c in checks)
                ]
                raise CheckFailed(
                    f"poll {number + 1}/{polls}: HTTP {response.status_code}, status {status!r}"
                    + (f", failing {', '.join(failing)}" if failing else "")
                )
            statuses.append(status)
    warned = statuses.count("warn")
    return f"{polls} polls over {config.settle_seconds:.0f}s, all ready" + (
        f" ({warned} with warnings)" if warned else ""
    )


# --- alerts -----------------------------------------------------------------------------------


def firing_alerts(config: PostDeployConfig, alertmanager_url: str) -> list[dict]:
    query = {
        "active": "true",
        "silenced": "false",
        "inhibited": "false",
        "filter": f'{config.env_label}="{config.environment}"',
    }
    try:
        response = httpx.get(
            f"{alertmanager_url.rstrip('/')}/api/v2/alerts",
            params=query,
            timeout=config.timeout,
        )
    except httpx.HTTPError as exc:
        raise CheckFailed(f"Alertmanager unreachable: {type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise CheckFailed(f"Alertmanager answered HTTP {response.status_code}")
    return response.json()


def check_alerts(config: PostDeployConfig) -> str:
    if not config.alertmanager_url:
        raise CheckFailed("no Alertmanager URL given (--alertmanager-url, or --skip alerts)")
    new: list[str] = []
    older: list[str] = []
    for alert in firing_alerts(config, config.alertmanager_url):
        started = parse_time(alert["startsAt"])
        name = alert.get("labels", {}).get("alertname", "?")
        (new if started >= config.since - CLOCK_SKEW else older).append(
            f"{name} (since {started:%H:%M:%S}Z)"
        )
    if new:
        raise CheckFailed(f"firing since the deploy began: {', '.join(sorted(new))}")
    detail = f"none new for {config.env_label}={config.environment}"
    if older:
        detail += f"; already firing before: {', '.join(sorted(older))}"
    return detail


# --- logs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    at: datetime | None
    level: str
    text: str


def parse_log_line(raw: str) -> LogLine | None:
    """A central-rsyslog or plain JSON line as (time, level); None for a blank line."""
    line = raw.strip()
    if not line:
        return None
    at = None
    message = line
    central = _CENTRAL_LINE.match(line)
    if central:
        message = central.group("msg").strip()
        try:
            at = parse_time(central.group("time"))
        except ValueError:
            at = None
    level = ""
    if message.startswith("{"):
        try:
            event = json.loads(message)
        except ValueError:
            event = None
        if isinstance(event, dict):
            level = str(event.get("level", "")).lower()
            if event.get("timestamp"):
                with contextlib.suppress(ValueError):
                    at = parse_time(str(event["timestamp"]))
    if not level:
        found = _LEVEL_TEXT.search(message)
        level = "error" if found else ""
    return LogLine(at=at, level=level, text=line)


def read_sources(config: PostDeployConfig) -> Iterable[tuple[str, str]]:
    """(source, line) for every line of every source."""
    for pattern in config.log_files:
        paths = sorted(glob.glob(pattern))
        if not paths:
            raise CheckFailed(f"no log file matches {pattern}")
        for path in paths:
            with open(path, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    yield path, line
    for template in config.log_commands:
        command = template.format(
            since=config.since.isoformat(), since_epoch=int(config.since.timestamp())
        )
        # The operator's own command line (the deploy's inventory), never request input.
        done = subprocess.run(  # noqa: S603
            shlex.split(command), capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise CheckFailed(
                f"log command failed ({done.returncode}): {command}: {done.stderr.strip()[-200:]}"
            )
        for line in done.stdout.splitlines():
            yield command, line


def check_logs(config: PostDeployConfig) -> str:
    if not (config.log_files or config.log_commands):
        raise CheckFailed("no log source given (--log-file, --log-command, or --skip logs)")
    since = config.since - CLOCK_SKEW
    errors, read, undated = [], 0, 0
    for _source, raw in read_sources(config):
        line = parse_log_line(raw)
        if line is None:
            continue
        if line.at is None:
            undated += 1
            continue  # a continuation line (a traceback's body); its first line counted
        if line.at < since:
            continue
        read += 1
        if line.level in ERROR_LEVELS:
            errors.append(line.text)
    if len(errors) > config.max_error_lines:
        sample = " | ".join(text[:160] for text in errors[:3])
        raise CheckFailed(
            f"{len(errors)} error lines since {config.since:%H:%M:%S}Z "
            f"(at most {config.max_error_lines} allowed): {sample}"
        )
    return f"{read} lines since {config.since:%H:%M:%S}Z, {len(errors)} errors"


# --- the run ------------------------------------------------------------------------------------


def check_smoke(config: PostDeployConfig, echo: Callable[[str], None]) -> str:
    try:
        smoke_config = smoke.config_from_env(config.base_url, config.smoke_env)
    except ValueError as exc:
        raise CheckFailed(f"cannot run the smoke tests: {exc}") from None
    run = smoke.run(smoke_config, echo=lambda line: echo(f"    {line}"))
    failed = [r.name for r in run.results if not r.ok]
    if failed:
        raise CheckFailed(f"smoke checks failed: {', '.join(failed)}")
    return f"{len(run.results)} smoke checks passed"


def run_checks(config: PostDeployConfig, echo: Callable[[str], None] = print) -> list[str]:
    """Run every check; the names of those that failed."""
    steps = {
        "readiness": lambda: check_readiness(config),
        "smoke": lambda: check_smoke(config, echo),
        "alerts": lambda: check_alerts(config),
        "logs": lambda: check_logs(config),
    }
    failed = []
    for name in CHECKS:
        if name in config.skip:
            echo(f"skip  {name:<10} left out on request (--skip {name})")
            continue
        started = time.monotonic()
        try:
            detail = steps[name]()
            state = "ok  "
        except CheckFailed as exc:
            detail, state = str(exc), "FAIL"
            failed.append(name)
        echo(f"{state}  {name:<10} {time.monotonic() - started:6.1f}s  {detail}")
    return failed
