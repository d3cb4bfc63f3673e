"""deploy/bin start scripts and the gunicorn config, run for real (with a stand-in Python)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.static  # no database: processes and files only

BIN = PROJECT_DIR / "deploy" / "bin"
# Stands in for the interpreter: records its arguments and environment, then exits.
FAKE_PYTHON = """#!/usr/bin/env bash
python3 - "$@" <<'PY'
import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items()
    if k in ("PROMETHEUS_MULTIPROC_DIR", "WORKER_METRICS_DIR")}}))
PY
"""


@pytest.fixture
def fake_python(tmp_path) -> Path:
    path = tmp_path / "fake-python"
    path.write_text(FAKE_PYTHON)
    path.chmod(0o755)
    return path


def run(script: str, fake_python: Path, tmp_path: Path, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(BOOKDESK_PYTHON=str(fake_python), METRICS_DIR=str(tmp_path / "metrics"))
    env.pop("WORKER_METRICS_DIR", None)
    done = subprocess.run(
        [str(BIN / script), *args], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_web_script_empties_its_metrics_directory_and_execs_gunicorn(fake_python, tmp_path):
    web = tmp_path / "metrics" / "web"
    web.mkdir(parents=True)
    (web / "counter_123.db").write_bytes(b"stale")
    (web / "notes.txt").write_text("kept")
    seen = run("bookdesk-web", fake_python, tmp_path, "--check-config")
    assert seen["argv"] == [
        "-m",
        "gunicorn",
        "-c",
        "python:bookdesk.ops.gunicorn_conf",
        "--check-config",
        "bookdesk.wsgi:application",
    ]
    assert seen["env"] == {
        "PROMETHEUS_MULTIPROC_DIR": str(web),
        "WORKER_METRICS_DIR": str(tmp_path / "metrics" / "worker"),
    }
    assert not (web / "counter_123.db").exists()
    assert (web / "notes.txt").exists()


def test_worker_script_uses_the_directory_the_web_server_reads(fake_python, tmp_path):
    worker = tmp_path / "metrics" / "worker"
    worker.mkdir(parents=True)
    (worker / "counter_9.db").write_bytes(b"stale")
    seen = run("bookdesk-worker", fake_python, tmp_path, "--once")
    assert seen["argv"] == ["-m", "bookdesk", "worker", "--once"]
    assert seen["env"]["PROMETHEUS_MULTIPROC_DIR"] == str(worker)
    assert not (worker / "counter_9.db").exists()


def config_in_subprocess(env_extra: dict) -> dict:
    # A subprocess: the config sets PROMETHEUS_MULTIPROC_DIR, which must not leak into tests.
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(env_extra)
    code = (
        "import json, os\n"
        "import bookdesk.ops.gunicorn_conf as c\n"
        "print(json.dumps({'bind': c.bind, 'workers': c.workers, 'threads': c.threads,"
        " 'timeout': c.timeout, 'graceful_timeout': c.graceful_timeout,"
        " 'accesslog': c.accesslog, 'worker_class': c.worker_class,"
        " 'child_exit': callable(c.child_exit), 'preload_app': c.preload_app,"
        " 'dir': os.environ['PROMETHEUS_MULTIPROC_DIR'],"
        " 'dir_exists': os.path.isdir(os.environ['PROMETHEUS_MULTIPROC_DIR'])}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_gunicorn_config_reads_the_environment(tmp_path):
    seen = config_in_subprocess(
        {
            "BIND": "127.0.0.1:9001,unix:/tmp/bookdesk.sock",
            "WEB_WORKERS": "4",
            "WEB_THREADS": "2",
            "WEB_TIMEOUT": "20",
            "WEB_GRACEFUL_TIMEOUT": "25",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "m"),
        }
    )
    assert seen["bind"] == ["127.0.0.1:9001", "unix:/tmp/bookdesk.sock"]
    assert (seen["workers"], seen["threads"]) == (4, 2)
    assert (seen["timeout"], seen["graceful_timeout"]) == (20, 25)
    assert seen["accesslog"] is None  # the app logs each request itself
    assert seen["worker_class"] == "gthread"
    assert seen["child_exit"] and seen["preload_app"] is False
    assert seen["dir"] == str(tmp_path / "m") and seen["dir_exists"]


def test_started_without_the_script_it_makes_a_private_metrics_directory():
    seen = config_in_subprocess({})
    assert seen["dir_exists"]
    assert "bookdesk-metrics-" in seen["dir"]
    os.rmdir(seen["dir"])


def test_gunicorn_accepts_the_config(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        METRICS_DIR=str(tmp_path / "metrics"),
        BOOKDESK_PYTHON=sys.executable,
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )
    done = subprocess.run(
        [str(BIN / "bookdesk-web"), "--check-config"],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
    )
    assert done.returncode == 0, done.stderr
