"""Proven live: the real monitoring stack on loopback pages for a dead site and failing code
emails, and says so again when they recover.

Started here, on free loopback ports, in tmp_path: the app under gunicorn (deploy/bin/
bookdesk-web, 3 workers, multiprocess /metrics) against the test database; nginx in front
of it writing the real JSON access log, read by mtail with the real program; an SMTP server
that is the app's relay (it can be told to refuse mail) and another that is the alert
inbox; a webhook recorder (chat bridge, push gateway, dead man's switch); blackbox_exporter
with the real blackbox.yml probing /readyz through nginx; Prometheus with the real rules
(time-shortened, see stack.py) and Alertmanager with the real routing. The test's finalizers
stop every process.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass

import pytest
import requests
from aiosmtpd.controller import Controller

from tests.conftest import PASSWORD, PROJECT_DIR, Inbox, database_url_for_subprocess, free_port
from tests.monitoring.rules import MONITORING
from tests.monitoring.stack import (
    Processes,
    Prometheus,
    WebhookRecorder,
    binary,
    wait_until,
    write_alertmanager_config,
    write_nginx_config,
    write_prometheus_config,
)

pytestmark = [pytest.mark.live, pytest.mark.timeout(240)]

WEB = PROJECT_DIR / "deploy" / "bin" / "bookdesk-web"


def mails(inbox: Inbox, alertname: str, status: str) -> list:
    # Subjects come from alertmanager/templates/bookdesk.tmpl: "[FIRING:1] SiteDown (...)".
    return [
        m
        for m in list(inbox.messages)
        if m["Subject"].startswith(f"[{status}") and f"] {alertname} (" in m["Subject"]
    ]


def wait_for_mail(inbox: Inbox, alertname: str, status: str, timeout: float = 60):
    return wait_until(
        lambda: mails(inbox, alertname, status),
        timeout=timeout,
        interval=0.05,
        what=f"{status} email for {alertname}",
    )[0]


def sign_in(base: str, email: str) -> requests.Response:
    """The password step of sign-in, which emails a code synchronously."""
    with requests.Session() as session:
        token = session.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
        return session.post(
            f"{base}/api/v1/auth/login",
            json={"email": email, "password": PASSWORD},
            headers={"X-CSRFToken": token},
            timeout=30,
        )


@dataclass
class Stack:
    procs: Processes
    app_env: dict
    app_url: str
    site_url: str
    prometheus: Prometheus
    alertmanager_url: str
    relay: Inbox
    alert_inbox: Inbox
    hooks: WebhookRecorder
    tmp_path: object

    def start_app(self):
        process = self.procs.start(
            "bookdesk-web", [str(WEB)], self.tmp_path, cwd=PROJECT_DIR, env=self.app_env
        )
        wait_until(
            lambda: requests.get(f"{self.app_url}/healthz", timeout=1).status_code == 200,
            timeout=30,
            what="the app's /healthz",
        )
        return process

    def alertmanager_alerts(self, alertname: str) -> list[dict]:
        return requests.get(
            f"{self.alertmanager_url}/api/v2/alerts",
            params={"filter": f'alertname="{alertname}"'},
            timeout=5,
        ).json()


@pytest.fixture
def smtp_pair():
    """Two real SMTP servers: the app's relay (refusable) and the alert inbox."""
    relay, alerts = Inbox(), Inbox()
    controllers = [
        Controller(handler, hostname="127.0.0.1", port=free_port()) for handler in (relay, alerts)
    ]
    for controller in controllers:
        controller.start()
    try:
        yield relay, alerts, [c.port for c in controllers]
    finally:
        for controller in controllers:
            controller.stop()


@pytest.fixture
def stack(transactional_db, tmp_path, smtp_pair, request) -> Stack:
    relay, alert_inbox, (relay_port, inbox_port) = smtp_pair
    procs = Processes()
    request.addfinalizer(procs.stop_all)
    # Shown by pytest only when the test fails: what each process said.
    request.addfinalizer(lambda: print(procs.logs()))
    hooks = WebhookRecorder(free_port())
    request.addfinalizer(hooks.stop)
    app_port, nginx_port, mtail_port, blackbox_port, am_port, prom_port = (
        free_port() for _ in range(6)
    )
    app_env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "BOOKDESK_ENV": "development",
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        "BIND": f"127.0.0.1:{app_port}",
        "WEB_WORKERS": "3",
        "WEB_THREADS": "4",
        "METRICS_DIR": str(tmp_path / "metrics"),
        "BOOKDESK_PYTHON": sys.executable,
        "EMAIL_URL": f"smtp://127.0.0.1:{relay_port}?tls=false",
        "EMAIL_TIMEOUT": "5",
        "UPLOADS_ROOT": str(tmp_path / "uploads"),
    }
    for name in ("TEST_DATABASE_NAME", "PROMETHEUS_MULTIPROC_DIR"):
        app_env.pop(name, None)
    the_stack = Stack(
        procs=procs,
        app_env=app_env,
        app_url=f"http://127.0.0.1:{app_port}",
        site_url=f"http://127.0.0.1:{nginx_port}",
        prometheus=Prometheus(f"http://127.0.0.1:{prom_port}"),
        alertmanager_url=f"http://127.0.0.1:{am_port}",
        relay=relay,
        alert_inbox=alert_inbox,
        hooks=hooks,
        tmp_path=tmp_path,
    )
    the_stack.app = the_stack.start_app()

    nginx_conf = write_nginx_config(
        tmp_path / "nginx", port=nginx_port, upstream=f"127.0.0.1:{app_port}"
    )
    procs.start(
        "nginx",
        [binary("nginx"), "-e", "stderr", "-c", str(nginx_conf), "-g", "daemon off;"],
        tmp_path,
    )
    procs.start(
        "mtail",
        [
            binary("mtail"),
            "--progs",
            str(MONITORING / "mtail"),
            "--logs",
            str(tmp_path / "nginx" / "access.log"),
            "--address",
            "127.0.0.1",
            "--port",
            str(mtail_port),
            "--logtostderr",
        ],
        tmp_path,
    )
    procs.start(
        "blackbox",
        [
            binary("prometheus-blackbox-exporter"),
            f"--config.file={MONITORING / 'blackbox' / 'blackbox.yml'}",
            f"--web.listen-address=127.0.0.1:{blackbox_port}",
        ],
        tmp_path,
    )
    am_config = write_alertmanager_config(
        tmp_path / "am", smtp=f"127.0.0.1:{inbox_port}", webhook_base=hooks.url
    )
    procs.start(
        "alertmanager",
        [
            binary("prometheus-alertmanager"),
            f"--config.file={am_config}",
            f"--storage.path={tmp_path / 'am' / 'data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
        ],
        tmp_path,
    )
    wait_until(
        lambda: requests.get(f"{the_stack.alertmanager_url}/-/ready", timeout=1).ok,
        timeout=30,
        what="Alertmanager to be ready",
    )
    prom_config = write_prometheus_config(
        tmp_path / "prom",
        app=f"127.0.0.1:{app_port}",
        readyz_url=f"{the_stack.site_url}/readyz",
        blackbox=f"127.0.0.1:{blackbox_port}",
        alertmanager=f"127.0.0.1:{am_port}",
        mtail=f"127.0.0.1:{mtail_port}",
    )
    procs.start(
        "prometheus",
        [
            binary("prometheus"),
            f"--config.file={prom_config}",
            f"--storage.tsdb.path={tmp_path / 'prom' / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            # The default resend delay (1m) compressed like every other duration here
            # (divided by 60): the first send may beat Alertmanager's start, and Watchdog
            # must keep arriving.
            "--rules.alert.resend-delay=1s",
        ],
        tmp_path,
    )
    return the_stack


def test_site_down_and_code_email_failures_page_by_email_and_recover(stack, alice):
    prometheus, inbox, site = stack.prometheus, stack.alert_inbox, stack.site_url
    # The stack sees a healthy site first: no page before anything breaks.
    wait_until(
        lambda: (
            prometheus.value('probe_success{job="blackbox-readyz"}') == 1
            and prometheus.value('up{job="bookdesk"}') == 1
            and prometheus.value('up{job="mtail"}') == 1
        ),
        timeout=60,
        what="Prometheus to see the app up and /readyz passing through nginx",
    )
    assert not mails(inbox, "SiteDown", "FIRING")

    # 1. The app stops (nginx stays): SiteDown arrives by email, and on the push channel.
    stopped = time.monotonic()
    stack.procs.stop(stack.app)
    down_mail = wait_for_mail(inbox, "SiteDown", "FIRING")
    site_down_seconds = time.monotonic() - stopped
    body = down_mail.get_body(("plain",)).get_content()
    assert down_mail["To"] == "oncall@bookdesk.example.org"
    assert f"Bookdesk is down: {site}/readyz fails its readiness probe" in body
    assert "docs/runbooks/SiteDown.md" in body
    assert "severity=critical" in body
    assert stack.hooks.alerts("/oncall-page/1", "SiteDown", "firing"), "push channel not called"
    # The failed scrape of the app is an effect of the same outage: inhibited, not sent.
    wait_until(
        lambda: [a for a in stack.alertmanager_alerts("TargetDown") if a["status"]["inhibitedBy"]],
        timeout=30,
        what="TargetDown to be inhibited by SiteDown",
    )
    assert not mails(inbox, "TargetDown", "FIRING")

    # 2. The app is back: SiteDown is resolved, by email too.
    restarted = time.monotonic()
    stack.app = stack.start_app()
    wait_for_mail(inbox, "SiteDown", "RESOLVED")
    site_up_seconds = time.monotonic() - restarted

    # 3. The relay refuses mail: sign-in code emails fail and OtpEmailSendFailures pages.
    stack.relay.refuse = True
    assert sign_in(site, "alice@example.com").status_code == 503
    # The failed-sends series must exist in Prometheus before further failures can count
    # as an increase.
    wait_until(
        lambda: prometheus.value('sum(bookdesk_otp_emails_total{result="failed"})'),
        timeout=30,
        what="the failed code email to be scraped",
    )
    refused = time.monotonic()
    for _ in range(3):
        assert sign_in(site, "alice@example.com").status_code == 503
        time.sleep(0.5)
    otp_mail = wait_for_mail(inbox, "OtpEmailSendFailures", "FIRING")
    otp_seconds = time.monotonic() - refused
    otp_body = otp_mail.get_body(("plain",)).get_content()
    assert "Sign-in code emails are failing" in otp_body
    assert "docs/runbooks/OtpEmailSendFailures.md" in otp_body
    assert not stack.relay.messages
    # nginx's access log, counted by mtail, saw the same 503s at the edge.
    wait_until(
        lambda: (
            prometheus.value('sum(nginx_access_requests_total{method="POST", status="503"})') == 4
        ),
        timeout=30,
        what="mtail to count the 503s in nginx's access log",
    )

    # 4. The relay accepts again: the code arrives, and the alert resolves.
    stack.relay.refuse = False
    assert sign_in(site, "alice@example.com").status_code == 200
    stack.relay.wait_for("alice@example.com")
    wait_for_mail(inbox, "OtpEmailSendFailures", "RESOLVED")

    # The heartbeat reached the dead man's switch all along.
    assert stack.hooks.alerts("/deadmans-switch/0", "Watchdog", "firing")
    timings = {
        "site_down_email": site_down_seconds,
        "site_resolved_email": site_up_seconds,
        "otp_failures_email": otp_seconds,
    }
    # bench/alerting.py collects these over several runs (no assertion on them here).
    if os.environ.get("BOOKDESK_ALERTING_TIMINGS"):
        with open(os.environ["BOOKDESK_ALERTING_TIMINGS"], "a") as out:
            out.write(json.dumps(timings) + "\n")
    print(
        f"\nalerting: app stopped -> SiteDown email {site_down_seconds:.1f}s; "
        f"app back -> resolved email {site_up_seconds:.1f}s; "
        f"relay refusing -> OtpEmailSendFailures email {otp_seconds:.1f}s"
    )
