"""A load generator that accounts for every request: open loop, fixed rate, exact counts.

    python deploy/env/loadgen.py URL --rate 100 --duration 30 [--cacert var/env/tls/ca.crt]

Requests are scheduled at a fixed rate whatever the answers take (open loop: a slow server
gets more requests in flight, not fewer requests), each on a new TLS connection, so no
failure can hide in a reused keep-alive connection (and no client retry can hide one: a
browser would retry a request whose keep-alive connection closed, this client never does).
Plain asyncio streams and HTTP/1.1, so the client costs little CPU. Every scheduled request ends in
exactly one of: an expected status (ok), another status (failed, by status), an error
(failed, by kind: refused, reset, timeout, ...). A request still unanswered when the run
stops is counted as dropped. The X-Bookdesk-Release header of each answer says which
release served it (nginx adds it in the local environment).

The mix: /healthz (answered by the app without I/O), the sign-in page (a template, a
session-less page) and a static file (WhiteNoise), each expected to answer 200.
Used by tests/deploy/test_zero_downtime.py and bench/deploy.py; only ever aimed at
loopback or the local environment's own addresses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import ssl
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

MIX = (
    ("/healthz", 0.4),
    ("/accounts/login/", 0.4),
    ("/static/css/bookdesk.css", 0.2),
)
RELEASE_HEADER = "x-bookdesk-release"


@dataclass
class Result:
    sent: float
    done: float
    path: str
    outcome: str  # "ok", "status 502", "error ConnectError", "dropped"
    release: str | None = None


@dataclass
class Report:
    url: str
    rate: float
    started: float
    stopped: float
    results: list[Result] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.results)

    @property
    def failures(self) -> Counter:
        return Counter(r.outcome for r in self.results if r.outcome != "ok")

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def releases(self) -> dict[str, dict]:
        """Per release: answers served, first and last time (seconds from the start)."""
        found: dict[str, dict] = {}
        for r in sorted(self.results, key=lambda r: r.done):
            if r.release is None:
                continue
            entry = found.setdefault(
                r.release, {"answers": 0, "first": r.done - self.started, "last": 0.0}
            )
            entry["answers"] += 1
            entry["last"] = round(r.done - self.started, 3)
            entry["first"] = round(entry["first"], 3)
        return found

    def latency_ms(self, quantile: float) -> float:
        times = sorted((r.done - r.sent) * 1000 for r in self.results if r.outcome == "ok")
        if not times:
            return 0.0
        return round(times[min(len(times) - 1, int(quantile * len(times)))], 1)

    def summary(self) -> dict:
        duration = self.stopped - self.started
        return {
            "url": self.url,
            "target_rate": self.rate,
            "duration_seconds": round(duration, 2),
            "sent": self.sent,
            "achieved_rate": round(self.sent / duration, 1) if duration else 0.0,
            "ok": self.sent - self.failed,
            "failed": self.failed,
            "failures": dict(self.failures),
            "latency_ms": {
                q: self.latency_ms(v)
                for q, v in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
            },
            "releases": self.releases(),
        }


def environment_networks() -> list[ipaddress.IPv4Network]:
    """The networks of the local environments' bridges on this machine (localenv.py records
    each one it makes in /run/bookdesk-env/<id>.owner; its bridge is <id>br0)."""
    ids = [p.stem for p in Path("/run/bookdesk-env").glob("*.owner")]
    bridges = {f"{env_id}br0" for env_id in ids}
    found = []
    listing = subprocess.run(
        ["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=False
    ).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[1] in bridges and fields[2] == "inet":
            found.append(ipaddress.ip_interface(fields[3]).network)
    return found


def check_target(url: str) -> None:
    """Load only ever goes to this machine or to the hosts of a local environment."""
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise SystemExit(f"loadgen: give the target as an address, not {host!r}") from None
    if address.is_loopback or any(address in net for net in environment_networks()):
        return
    raise SystemExit(f"loadgen: {address} is neither loopback nor a local environment's host")


class Load:
    """Run the load in a thread of its own while the caller deploys:

    with Load(url, rate=100, cacert=...) as load:
        subprocess.run(["make", "deploy", ...])
    report = load.report
    """

    def __init__(
        self,
        url: str,
        *,
        rate: float = 100,
        cacert: str | None = None,
        timeout: float = 30,
        max_in_flight: int = 500,
    ):
        check_target(url)
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.host_header = parts.netloc
        self.server_hostname = self.host if parts.scheme == "https" else None
        self.rate = rate
        self.timeout = timeout
        self.max_in_flight = max_in_flight
        self.context = None
        if parts.scheme == "https":
            self.context = ssl.create_default_context(cafile=cacert)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.report: Report | None = None

    def __enter__(self) -> Load:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> Report:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 30)
        assert self.report is not None, "the load generator did not finish"
        return self.report

    async def _get(self, path: str) -> tuple[str, str | None]:
        """One GET on a new connection; (outcome, release header)."""
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=self.context, server_hostname=self.server_hostname
        )
        try:
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {self.host_header}\r\n"
                "User-Agent: bookdesk-loadgen\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.read()  # the body, up to the close the request asked for
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        release = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == RELEASE_HEADER:
                release = value.strip()
        return ("ok" if status == 200 else f"status {status}"), release

    async def _one(self, gate, path, scheduled, results):
        async with gate:
            try:
                outcome, release = await asyncio.wait_for(self._get(path), self.timeout)
            except TimeoutError:
                outcome, release = "error timeout", None
            except asyncio.IncompleteReadError:
                outcome, release = "error closed without an answer", None
            except (OSError, ssl.SSLError, ValueError, IndexError) as exc:
                outcome, release = f"error {type(exc).__name__}", None
            results.append(Result(scheduled, time.monotonic(), path, outcome, release))

    async def _run(self) -> None:
        results: list[Result] = []
        tasks: set[asyncio.Task] = set()
        gate = asyncio.Semaphore(self.max_in_flight)
        weights = [w for _, w in MIX]
        paths = [p for p, _ in MIX]
        started = time.monotonic()
        n = 0
        while not self._stop.is_set():
            due = started + n / self.rate
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
                continue
            # Deterministic mix: request n takes the path its place in a cycle of ten says.
            slot = (n % 10) / 10
            acc = 0.0
            path = paths[-1]
            for p, w in zip(paths, weights, strict=True):
                acc += w
                if slot < acc:
                    path = p
                    break
            task = asyncio.create_task(self._one(gate, path, due, results))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        stopped = time.monotonic()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self.timeout + 5)
            for task in pending:
                task.cancel()
        # Scheduled but never answered: dropped.
        for _ in range(n - len(results)):
            results.append(Result(stopped, stopped, "?", "dropped"))
        self.report = Report(self.url, self.rate, started, stopped, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--cacert")
    args = parser.parse_args()
    with Load(args.url, rate=args.rate, cacert=args.cacert) as load:
        time.sleep(args.duration)
    print(json.dumps(load.report.summary(), indent=2))


if __name__ == "__main__":
    main()
