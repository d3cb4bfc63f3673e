"""The nginx snippet for uploads, run for real in front of the app (nginx-light)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
import requests

from bookdesk.attachments.models import Attachment
from tests.attachments import samples
from tests.conftest import PROJECT_DIR, free_port, start_app_server, stop_app_server

pytestmark = pytest.mark.live

SNIPPET = PROJECT_DIR / "deploy" / "nginx" / "bookdesk-uploads.conf"


def nginx_config(tmp_path, *, port: int, app_port: int, uploads) -> str:
    snippet = SNIPPET.read_text().replace("/srv/bookdesk/uploads/", f"{uploads}/")
    (tmp_path / "uploads.conf").write_text(snippet)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, workers would drop to "nobody", who cannot read pytest's private temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
error_log {tmp_path}/nginx-error.log;
pid {tmp_path}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp_paths}
    server {{
        listen 127.0.0.1:{port};
        include {tmp_path}/uploads.conf;
        location / {{
            proxy_pass http://127.0.0.1:{app_port};
            proxy_set_header Host $http_host;
        }}
    }}
}}
"""


@pytest.fixture
def stack(transactional_db, tmp_path, uploads_root):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    uploads_root.mkdir(parents=True, exist_ok=True)
    app = start_app_server(
        tmp_path,
        workers=1,
        threads=2,
        extra_env={
            "UPLOADS_ROOT": str(uploads_root),
            "ATTACHMENTS_X_ACCEL_PREFIX": "/_protected_uploads/",
        },
    )
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        nginx_config(
            tmp_path, port=port, app_port=int(app.url.rsplit(":", 1)[1]), uploads=uploads_root
        )
    )
    subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], check=True, capture_output=True
    )
    proc = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=2)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        stop_app_server(app)


@pytest.fixture
def token(alice):
    from bookdesk.accounts.tokens import token_create

    return token_create(user=alice, name="nginx test").raw


def test_nginx_refuses_an_oversized_body_itself(stack, booking, token, uploads_root):
    response = requests.post(
        f"{stack}/api/v1/bookings/{booking.pk}/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("big.txt", b"x" * (12 * 1024 * 1024), "text/plain")},
        timeout=30,
    )
    assert response.status_code == 413
    # nginx's own answer (the app's would name its limit): the body never reached the app.
    assert response.json() == {
        "error": "too_large",
        "detail": "The upload is larger than the server accepts.",
    }
    assert not Attachment.objects.exists()


def test_downloads_go_out_through_x_accel_redirect(stack, booking, token):
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.post(
        f"{stack}/api/v1/bookings/{booking.pk}/attachments",
        headers=auth,
        files={"file": ("Brief März.pdf", samples.pdf(), "application/pdf")},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    response = requests.get(
        f"{stack}/api/v1/attachments/{created.json()['id']}", headers=auth, timeout=30
    )
    assert response.status_code == 200
    assert response.content == samples.pdf()
    assert "X-Accel-Redirect" not in response.headers
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Brief Marz.pdf\"; filename*=UTF-8''Brief%20M%C3%A4rz.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_internal_location_cannot_be_asked_for(stack, booking, token):
    created = requests.post(
        f"{stack}/api/v1/bookings/{booking.pk}/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.pdf", samples.pdf(), "application/pdf")},
        timeout=30,
    )
    stored = Attachment.objects.get(pk=created.json()["id"]).stored_name
    direct = requests.get(
        f"{stack}/_protected_uploads/{stored[:2]}/{stored[2:4]}/{stored}", timeout=30
    )
    assert direct.status_code == 404


def test_without_permission_nginx_sends_nothing(stack, booking, token, dave):
    from bookdesk.accounts.tokens import token_create

    created = requests.post(
        f"{stack}/api/v1/bookings/{booking.pk}/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.pdf", samples.pdf(), "application/pdf")},
        timeout=30,
    )
    other = token_create(user=dave, name="other").raw
    response = requests.get(
        f"{stack}/api/v1/attachments/{created.json()['id']}",
        headers={"Authorization": f"Bearer {other}"},
        timeout=30,
    )
    assert response.status_code == 404
    assert samples.pdf() not in response.content
