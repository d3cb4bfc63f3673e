"""The container image, built here and run: `make image-test` (marker ``image``; not part
of `make test`, it takes minutes from nothing).

The image is built with buildah (``--isolation chroot``) from the release bundle of HEAD,
as `make image` does, on a Debian 12 base made on this machine (no registry answers here;
deploy/container/local_base.py, cached under /var/cache/bookdesk/image-base). Its roles
then run from a working container with ``buildah run --isolation chroot``, which shares
the host's network: ``migrate`` against an empty PostgreSQL database, ``web`` answering
/healthz, /readyz and static files on loopback, ``worker`` delivering the outbox to a real
SMTP server. Every role runs as the image's own user (uid 10001), with the image's
environment and entry point.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from aiosmtpd.controller import Controller

from tests.conftest import PROJECT_DIR, Inbox, free_port

pytestmark = [pytest.mark.image, pytest.mark.live, pytest.mark.timeout(1800)]

sys.path[:0] = [str(PROJECT_DIR / "deploy" / "container"), str(PROJECT_DIR / "deploy" / "package")]
import build_bundle  # noqa: E402
import build_image  # noqa: E402
import local_base  # noqa: E402

ENTRYPOINT = "/usr/local/bin/bookdesk-entrypoint"
APP_UID = 10001
NGINX_UID = NGINX_GID = 101  # the official nginx images, as in Compose
NOBODY = 65534


@pytest.fixture(scope="module")
def commit():
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT_DIR, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def image(commit):
    bundle = build_bundle.build(
        ref=commit, out=PROJECT_DIR / "dist", cache=PROJECT_DIR / "var" / "cache" / "wheelhouse"
    )
    started = time.monotonic()
    base = local_base.ensure_base_image()
    print(f"base image {base}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    started = time.monotonic()
    tag = f"localhost/bookdesk-image-test:{uuid.uuid4().hex[:12]}"
    image_id = build_image.build_image(bundle, base=base, tags=[tag])
    print(f"image build: {time.monotonic() - started:.0f} s", file=sys.stderr)
    manifest = build_image.bundle_manifest(bundle)
    try:
        yield {"id": image_id, "manifest": manifest}
    finally:
        subprocess.run(["buildah", "rmi", tag], check=False, capture_output=True)


@pytest.fixture(scope="module")
def container(image):
    name = f"bookdesk-image-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["buildah", "from", "--name", name, image["id"]], check=True, capture_output=True
    )
    try:
        yield name
    finally:
        subprocess.run(["buildah", "rm", name], check=False, capture_output=True)


@pytest.fixture(scope="module")
def database():
    """An empty PostgreSQL database on the test server, dropped afterwards."""
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"))
    assert server.scheme.startswith("postgres"), "make image-test needs PostgreSQL"
    name = f"bookdesk_image_{uuid.uuid4().hex[:8]}"
    admin = server._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def relay():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def app_env(database, relay):
    return {
        "BOOKDESK_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://bookdesk.example.org",
        "DATABASE_URL": database,
        "EMAIL_URL": f"smtp://127.0.0.1:{relay.port}?tls=false",
        "DEFAULT_FROM_EMAIL": "Bookdesk <bookdesk@example.org>",
        "WEB_WORKERS": "2",
        "WORKER_POLL_SECONDS": "0.5",
    }


def run_command(container, *command, env=None, user=None) -> list[str]:
    args = ["buildah", "run", "--isolation", "chroot"]
    if user:
        # Another user than the image's cannot enter its WORKDIR (/var/lib/bookdesk, 0750).
        args += ["--user", user, "--workingdir", "/"]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    return [*args, container, "--", *command]


def run(container, *command, env=None, user=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        run_command(container, *command, env=env, user=user),
        check=False, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def container_main_pid(runner: subprocess.Popen) -> int | None:
    """The container's own first process under `buildah run` (the child of its
    buildah-chroot-exec helper): SIGTERM to it is the container's stop signal, while
    buildah itself, when signalled, kills the process outright."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            pid = int(proc.name)
            if os.getpgid(pid) != runner.pid:
                continue
            status = (proc / "status").read_text()
            ppid = int(status.split("\nPPid:\t", 1)[1].split()[0])
            parent = Path(f"/proc/{ppid}/cmdline").read_bytes().split(b"\0")[0]
        except (OSError, ValueError, IndexError):
            continue
        if parent == b"buildah-chroot-exec":
            return pid
    return None


@contextlib.contextmanager
def running(container, role: str, env: dict, log: Path):
    """Start a role in the background; stop it with SIGTERM to its main process."""
    with log.open("wb") as out:
        runner = subprocess.Popen(
            run_command(container, ENTRYPOINT, role, env=env),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        yield runner
    finally:
        if runner.poll() is None:
            pid = container_main_pid(runner)
            if pid:
                os.kill(pid, signal.SIGTERM)
            try:
                runner.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(runner.pid, signal.SIGKILL)
                runner.wait()


def wait_for(check, *, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if check():
                return
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout:.0f} s; log:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def migrated(container, app_env):
    result = run(container, ENTRYPOINT, "migrate", env=app_env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def web(image, container, app_env, migrated, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("web") / "web.log"
    with running(container, "web", {**app_env, "BIND": f"127.0.0.1:{port}"}, log) as runner:
        base = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 200,
            timeout=60, what="web did not answer /healthz", log=log,
        )  # fmt: skip
        yield {"url": base, "port": port, "manifest": image["manifest"]}
    assert runner.returncode == 0, f"web did not stop cleanly:\n{log.read_text()}"


# --- the image ----------------------------------------------------------------------------


def test_image_carries_the_bundle_of_the_commit(image, container, commit):
    inspect = subprocess.run(
        ["buildah", "inspect", "--type", "image", image["id"]],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    config = json.loads(inspect.stdout)["Docker"]["config"]
    assert image["manifest"]["commit"] == commit
    assert config["Labels"]["org.opencontainers.image.revision"] == commit
    assert config["Labels"]["org.opencontainers.image.version"] == image["manifest"]["version"]
    assert f"BOOKDESK_COMMIT={commit}" in config["Env"]
    assert config["User"] == "bookdesk"
    assert config["Entrypoint"] == [ENTRYPOINT]
    assert config["Healthcheck"]["Test"][:2] == ["CMD", "python"]
    shipped = run(container, "cat", "/opt/bookdesk/manifest.json")
    assert json.loads(shipped.stdout) == image["manifest"]
    # The wheels stayed in the builder stage.
    assert run(container, "test", "-e", "/opt/bookdesk/wheels").returncode == 1
    whoami = run(container, "id")
    # The app's user, with the web server's group as a supplementary one (uploads).
    assert whoami.stdout.startswith(f"uid={APP_UID}(bookdesk) gid={APP_UID}(bookdesk) ")
    assert f"{NGINX_GID}(" in whoami.stdout.split("groups=")[1]


def test_migrate_builds_the_schema_in_an_empty_database(migrated, database):
    assert "Applying bookings.0001_initial... OK" in migrated.stdout
    with psycopg.connect(database) as conn:
        applied = conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
        cache = conn.execute("SELECT to_regclass('bookdesk_cache')").fetchone()[0]
    assert applied > 10
    assert cache == "bookdesk_cache", "migrate makes the database cache table too"


# --- web ----------------------------------------------------------------------------------


def test_web_is_live_and_ready(web):
    assert requests.get(f"{web['url']}/healthz", timeout=5).status_code == 200
    ready = requests.get(f"{web['url']}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.headers["Content-Type"].startswith("application/health+json")
    body = ready.json()
    assert body["status"] == "pass", body
    assert body["releaseId"] == f"{web['manifest']['version']}+{web['manifest']['commit']}"


def test_web_serves_the_bundles_static_files(web, image, container):
    staticfiles = run(container, "cat", "/opt/bookdesk/static/staticfiles.json").stdout
    hashed = json.loads(staticfiles)["paths"]["css/bookdesk.css"]
    response = requests.get(
        f"{web['url']}/static/{hashed}", headers={"X-Forwarded-Proto": "https"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    expected = image["manifest"]["files"][f"static/{hashed}"]["sha256"]
    assert hashlib.sha256(response.content).hexdigest() == expected


def test_the_images_healthcheck_passes_against_web(web, image, container):
    inspect = subprocess.run(
        ["buildah", "inspect", "--type", "image", image["id"]],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    test = json.loads(inspect.stdout)["Docker"]["config"]["Healthcheck"]["Test"]
    probe = [part.replace("127.0.0.1:8000", f"127.0.0.1:{web['port']}") for part in test[1:]]
    result = run(container, *probe)
    assert result.returncode == 0, result.stderr


# --- worker -------------------------------------------------------------------------------


def test_worker_delivers_the_outbox_and_stops_cleanly(
    container, app_env, migrated, relay, tmp_path
):
    enqueue = (
        "from django.db import transaction\n"
        "from bookdesk.notifications.services import enqueue_email\n"
        "with transaction.atomic():\n"
        "    enqueue_email(kind='image-test', to='ops@example.org', template='signin-code',\n"
        "                  context={'code': '424242', 'minutes': 10,\n"
        "                           'user': {'full_name': 'Ops'}, 'site_url': ''})\n"
    )
    result = run(container, ENTRYPOINT, "shell", "-c", enqueue, env=app_env)
    assert result.returncode == 0, result.stderr
    log = tmp_path / "worker.log"
    with running(container, "worker", app_env, log) as runner:
        wait_for(
            lambda: relay.handler.to("ops@example.org"),
            timeout=60, what="the worker delivered nothing", log=log,
        )  # fmt: skip
        assert runner.poll() is None
    assert runner.returncode == 0, f"worker did not stop cleanly:\n{log.read_text()}"
    [message] = relay.handler.to("ops@example.org")
    assert "424242" in message.get_body(("plain",)).get_content()


# --- uploads and nginx --------------------------------------------------------------------


def test_uploads_are_readable_by_nginx_in_compose_and_by_nobody_else(container, app_env):
    """Compose mounts the image's uploads directory into nginx (uid and gid 101), which sends
    the files after the app's permission check; 403 if it cannot read them."""
    store = (
        "import io\n"
        "from bookdesk.attachments.storage import store_file\n"
        "print(store_file(io.BytesIO(b'%PDF-1.4 attachment')).path)\n"
    )
    # The strictest umask a service may run with: the app sets the modes itself.
    result = run(
        container, "sh", "-c", f'umask 077 && exec {ENTRYPOINT} shell -c "$0"', store, env=app_env
    )
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip().splitlines()[-1]
    assert path.startswith("/srv/bookdesk/uploads/")
    as_nginx = run(container, "cat", path, user=f"{NGINX_UID}:{NGINX_GID}")
    assert as_nginx.returncode == 0, as_nginx.stderr
    assert as_nginx.stdout == "%PDF-1.4 attachment"
    as_other = run(container, "cat", path, user=f"{NOBODY}:{NOBODY}")
    assert as_other.returncode != 0
    assert "Permission denied" in as_other.stderr
