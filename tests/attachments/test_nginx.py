"""The nginx snippet for uploads, run for real in front of the app (nginx-light).

As on a host or in Compose, nginx's workers run as another, unprivileged user than the
app (here ``nobody``, with the group ``nogroup``): they read the uploads through the
directory's group only, the layout docs/uploads-and-exports.md ("Permissions") prescribes.
The app runs with the strictest umask a hardened service may have (0077).
"""

from __future__ import annotations

import grp
import os
import shutil
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bookdesk.attachments.models import Attachment
from tests.attachments import samples
from tests.conftest import PROJECT_DIR, free_port, start_app_server, stop_app_server

pytestmark = pytest.mark.live

SNIPPET = PROJECT_DIR / "deploy" / "nginx" / "bookdesk-uploads.conf"


WEB_USER = "nobody"
WEB_GROUP = grp.getgrgid(65534).gr_name  # nogroup on Debian


def nginx_config(tmp_path, *, port: int, app_port: int, uploads) -> str:
    snippet = SNIPPET.read_text().replace("/srv/bookdesk/uploads/", f"{uploads}/")
    (tmp_path / "uploads.conf").write_text(snippet)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Workers drop to this user when nginx starts as root (as it does on hosts).
    return f"""user {WEB_USER} {WEB_GROUP};
worker_processes 1;
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


@dataclass
class Stack:
    url: str
    nginx_pid: int
    uploads: Path

    def worker_uids(self) -> set[int]:
        """Real uids of nginx's worker processes (children of the master)."""
        uids = set()
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":\t", 1)
                    for line in status.read_text().splitlines()
                    if ":\t" in line
                )
            except OSError:
                continue
            if fields.get("PPid") == str(self.nginx_pid):
                uids.add(int(fields["Uid"].split()[0]))
        return uids


@pytest.fixture
def web_uploads():
    """UPLOADS_ROOT as deployed: owned by the app, group of the web server, mode 2750. Not
    under pytest's temporary directory, which only its owner may enter."""
    base = Path(tempfile.mkdtemp(prefix="bookdesk-nginx-"))
    base.chmod(0o711)
    uploads = base / "uploads"
    uploads.mkdir()
    if os.geteuid() == 0:
        os.chown(uploads, -1, grp.getgrnam(WEB_GROUP).gr_gid)
    uploads.chmod(0o2750)
    yield uploads
    shutil.rmtree(base)


@pytest.fixture
def stack(transactional_db, tmp_path, web_uploads):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    previous = os.umask(0o077)  # the app inherits it
    try:
        app = start_app_server(
            tmp_path,
            workers=1,
            threads=2,
            extra_env={
                "UPLOADS_ROOT": str(web_uploads),
                "ATTACHMENTS_X_ACCEL_PREFIX": "/_protected_uploads/",
            },
        )
    finally:
        os.umask(previous)
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        nginx_config(
            tmp_path, port=port, app_port=int(app.url.rsplit(":", 1)[1]), uploads=web_uploads
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
        yield Stack(url=url, nginx_pid=proc.pid, uploads=web_uploads)
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
        f"{stack.url}/api/v1/bookings/{booking.pk}/attachments",
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
        f"{stack.url}/api/v1/bookings/{booking.pk}/attachments",
        headers=auth,
        files={"file": ("Brief März.pdf", samples.pdf(), "application/pdf")},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    response = requests.get(
        f"{stack.url}/api/v1/attachments/{created.json()['id']}", headers=auth, timeout=30
    )
    assert response.status_code == 200
    assert response.content == samples.pdf()
    # ... read by nginx as another user than the app's, through the group alone.
    stored = Attachment.objects.get(pk=created.json()["id"]).stored_name
    path = stack.uploads / stored[:2] / stored[2:4] / stored
    workers = stack.worker_uids()
    assert workers, "no nginx worker found"
    assert path.stat().st_uid not in workers, "nginx's workers must not run as the app's user"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640, "not readable by other users"
    assert "X-Accel-Redirect" not in response.headers
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Brief Marz.pdf\"; filename*=UTF-8''Brief%20M%C3%A4rz.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_internal_location_cannot_be_asked_for(stack, booking, token):
    created = requests.post(
        f"{stack.url}/api/v1/bookings/{booking.pk}/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.pdf", samples.pdf(), "application/pdf")},
        timeout=30,
    )
    stored = Attachment.objects.get(pk=created.json()["id"]).stored_name
    direct = requests.get(
        f"{stack.url}/_protected_uploads/{stored[:2]}/{stored[2:4]}/{stored}", timeout=30
    )
    assert direct.status_code == 404


def test_without_permission_nginx_sends_nothing(stack, booking, token, dave):
    from bookdesk.accounts.tokens import token_create

    created = requests.post(
        f"{stack.url}/api/v1/bookings/{booking.pk}/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.pdf", samples.pdf(), "application/pdf")},
        timeout=30,
    )
    other = token_create(user=dave, name="other").raw
    response = requests.get(
        f"{stack.url}/api/v1/attachments/{created.json()['id']}",
        headers={"Authorization": f"Bearer {other}"},
        timeout=30,
    )
    assert response.status_code == 404
    assert samples.pdf() not in response.content
