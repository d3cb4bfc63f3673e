"""The small programs the deploy relies on, each against real files and sockets on this
machine: the load generator's accounting, the balancer's health decisions
(bookdesk-lb), the host's release state and lock (bookdesk-deployctl), the test releases
(deploy/env/test_bundles.py) and the harness's reading of apt sources."""

from __future__ import annotations

import contextlib
import http.server
import importlib.machinery
import importlib.util
import json
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tests.deploy.terraform_code import ROOT

pytestmark = pytest.mark.static

sys.path.insert(0, str(ROOT / "deploy" / "env"))
sys.path.insert(0, str(ROOT / "deploy" / "package"))


def load_script(path: Path, name: str):
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


# --- the load generator ----------------------------------------------------------------------


class Handler(http.server.BaseHTTPRequestHandler):
    """/healthz 200 with a release header; the sign-in page 502 every third time; the
    static file: the connection is closed without an answer."""

    calls = 0

    def do_GET(self):
        Handler.calls += 1
        if self.path == "/healthz":
            self.send_response(200)
            self.send_header("X-Bookdesk-Release", "1.0-abc")
        elif self.path == "/accounts/login/":
            self.send_response(502 if Handler.calls % 3 == 0 else 200)
        else:
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_loadgen_counts_every_request_by_outcome(server):
    from loadgen import Load

    with Load(server, rate=50, timeout=5) as load:
        time.sleep(1.0)
    summary = load.report.summary()
    outcomes = load.report.results
    assert summary["sent"] == len(outcomes) >= 45
    by_path = {}
    for result in outcomes:
        by_path.setdefault(result.path, []).append(result.outcome)
    assert set(by_path["/healthz"]) == {"ok"}
    assert set(by_path["/accounts/login/"]) <= {"ok", "status 502"}
    assert "error closed without an answer" in set(by_path["/static/css/bookdesk.css"])
    assert summary["failed"] == sum(1 for r in outcomes if r.outcome != "ok") > 0
    assert summary["ok"] + summary["failed"] == summary["sent"]
    assert summary["releases"]["1.0-abc"]["answers"] == len(by_path["/healthz"])


def test_loadgen_counts_a_refused_connection_and_refuses_foreign_targets():
    from loadgen import Load

    with contextlib.closing(__import__("socket").socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once it is closed
    with Load(f"http://127.0.0.1:{port}", rate=20, timeout=2) as load:
        time.sleep(0.5)
    summary = load.report.summary()
    assert summary["ok"] == 0 and summary["failures"] == {
        "error ConnectionRefusedError": summary["sent"]
    }
    with pytest.raises(SystemExit):
        Load("https://192.0.2.10/", rate=1)  # TEST-NET: neither loopback nor private
    with pytest.raises(SystemExit):
        Load("https://example.org/", rate=1)


# --- bookdesk-lb ------------------------------------------------------------------------------


@pytest.fixture
def lb(tmp_path, monkeypatch):
    config = {
        "upstream": "bookdesk_backends",
        "upstream_file": str(tmp_path / "backends.conf"),
        "backends": [
            {"name": "app1", "address": "10.0.0.1", "port": 443},
            {"name": "app2", "address": "10.0.0.2", "port": 443},
        ],
        "probe": {"host": "site", "path": "/readyz"},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("BOOKDESK_LB_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("BOOKDESK_LB_STATE", str(tmp_path / "state"))
    module = load_script(ROOT / "deploy/ansible/roles/nginx/files/bookdesk-lb", "bookdesk_lb")
    (tmp_path / "state" / "drained").mkdir(parents=True)
    return module, config, tmp_path


def test_lb_takes_out_unhealthy_and_drained_hosts_but_never_the_last(lb):
    module, config, tmp = lb
    healthy = {"app1": {"healthy": True}, "app2": {"healthy": True}}
    assert module.decide(config, healthy) == {"app1": False, "app2": False}
    one_down = {"app1": {"healthy": True}, "app2": {"healthy": False}}
    assert module.decide(config, one_down) == {"app1": False, "app2": True}
    # Every host failing its probes: all stay in, nginx's passive checks decide.
    all_down = {"app1": {"healthy": False}, "app2": {"healthy": False}}
    assert module.decide(config, all_down) == {"app1": False, "app2": False}
    (tmp / "state" / "drained" / "app1").touch()
    assert module.decide(config, healthy) == {"app1": True, "app2": False}
    text = module.render(config, {"app1": True, "app2": False})
    assert "server 10.0.0.1:443 max_fails=1 fail_timeout=5s down;  # app1" in text
    assert "server 10.0.0.2:443 max_fails=1 fail_timeout=5s;  # app2" in text


def test_lb_refuses_to_drain_the_last_healthy_host(lb, capsys):
    module, config, tmp = lb
    (tmp / "state" / "state.json").write_text(
        json.dumps({"app1": {"healthy": True}, "app2": {"healthy": False}})
    )
    applied = []
    module.apply = lambda cfg, down: applied.append(down)
    assert module.cmd_drain(config, "app1", wait=0) == 3
    assert "refusing to drain app1" in capsys.readouterr().err
    assert not (tmp / "state" / "drained" / "app1").exists() and applied == []
    # Draining the host that does not serve loses nothing: allowed.
    assert module.cmd_drain(config, "app2", wait=0) == 0
    assert (tmp / "state" / "drained" / "app2").exists()


# --- bookdesk-deployctl ----------------------------------------------------------------------

DEPLOYCTL = ROOT / "deploy/ansible/roles/app/files/bookdesk-deployctl"


def deployctl(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DEPLOYCTL), f"--root={root}", *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_deployctl_records_switches_for_rollback(tmp_path):
    for release in ("r1", "r2"):
        (tmp_path / "releases" / release).mkdir(parents=True)
        (tmp_path / "releases" / f"{release}.installed").write_text("{}")
    assert json.loads(deployctl(tmp_path, "state").stdout)["current"] is None
    assert deployctl(tmp_path, "set-live", "--colour=blue", "--release=r1").returncode == 0
    assert deployctl(tmp_path, "set-live", "--colour=green", "--release=r2").returncode == 0
    state = json.loads(deployctl(tmp_path, "state").stdout)
    assert (state["live"], state["current"], state["previous"]) == ("green", "r2", "r1")
    assert state["releases"] == ["r1", "r2"]
    # A rollback is a switch to the previous release; doing it twice comes back.
    deployctl(tmp_path, "set-live", "--colour=blue", "--release=r1")
    state = json.loads(deployctl(tmp_path, "state").stdout)
    assert (state["current"], state["previous"]) == ("r1", "r2")


def test_deployctl_lock_is_exclusive_and_released_only_by_its_owner(tmp_path):
    owner = json.dumps({"token": "t1", "actor": "alice"})
    assert deployctl(tmp_path, "lock", f"--owner={owner}").returncode == 0
    second = deployctl(tmp_path, "lock", "--owner={}")
    assert second.returncode == 3 and "alice" in second.stdout
    assert deployctl(tmp_path, "unlock", "--token=t2").returncode == 3
    assert (tmp_path / "deploy.lock").exists()
    assert deployctl(tmp_path, "unlock", "--token=t1").returncode == 0
    assert not (tmp_path / "deploy.lock").exists()


# --- test releases ---------------------------------------------------------------------------


def fake_bundle(tmp_path: Path) -> Path:
    import build_bundle

    root = tmp_path / "src" / "bookdesk-1.0-aaaaaaaaaaaa"
    (root / "wheels").mkdir(parents=True)
    (root / "requirements").mkdir()
    (root / "requirements" / "app.lock").write_text("django==5.2 \\\n    --hash=sha256:00\n")
    wheel = root / "wheels" / "bookdesk-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(
            "bookdesk/ops/readiness.py",
            "CHECKS: dict[str, Callable[[], dict]] = {\n    'database': check,\n}\n",
        )
        zf.writestr("bookdesk-1.0.dist-info/RECORD", "")
    fields = {"name": "bookdesk", "version": "1.0", "commit": "a" * 40, "build_time": "x",
              "python": {}, "source_date_epoch": 1700000000,
              "wheel": "wheels/bookdesk-1.0-py3-none-any.whl"}  # fmt: skip
    build_bundle.write_manifest(root, fields)
    target = tmp_path / "bookdesk-1.0-aaaaaaaaaaaa.tar.gz"
    build_bundle.write_archive(root, target, 1700000000)
    return target


def test_test_releases_are_valid_bundles_with_their_own_stamp(tmp_path):
    import test_bundles
    import verify_bundle

    source = fake_bundle(tmp_path)
    nxt = test_bundles.make(source, "next", tmp_path / "out", broken=False)
    broken = test_bundles.make(source, "broken", tmp_path / "out", broken=True)
    assert len({source.name, nxt.name, broken.name}) == 3
    for bundle in (nxt, broken):
        assert verify_bundle.main([str(bundle)]) == 0
    with tarfile.open(broken) as archive:
        top = broken.name.removesuffix(".tar.gz")
        manifest = json.load(archive.extractfile(f"{top}/manifest.json"))
        wheel = archive.extractfile(f"{top}/wheels/bookdesk-1.0-py3-none-any.whl").read()
    assert manifest["test_release"] == {"from": "a" * 40, "label": "broken", "broken": True}
    assert manifest["commit"].startswith(top.rsplit("-", 1)[1])
    with zipfile.ZipFile(__import__("io").BytesIO(wheel)) as zf:
        readiness = zf.read("bookdesk/ops/readiness.py").decode()
        record = zf.read("bookdesk-1.0.dist-info/RECORD").decode()
    assert "release:brokenOnPurpose" in readiness
    assert test_bundles.record_hash(readiness.encode()) in record


# --- the harness ----------------------------------------------------------------------------


def test_harness_reads_the_machines_debian_sources(tmp_path):
    import localenv

    (tmp_path / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb-src\nURIs: http://src.invalid/debian\nSuites: bookworm\nComponents: main\n\n"
        "Types: deb\nURIs: http://old.invalid/debian\nSuites: bullseye\nComponents: main\n"
    )
    (tmp_path / "sources.list").write_text(
        "deb [signed-by=/k.gpg] http://sec.invalid/debian-security bookworm-security main\n"
    )
    entries = localenv.apt_sources([tmp_path / "sources.list", tmp_path / "debian.sources"])
    assert entries == [
        ("http://sec.invalid/debian-security", "bookworm-security", ["main"]),
        ("http://mirror.invalid/debian", "bookworm", ["main"]),
        ("http://mirror.invalid/debian", "bookworm-updates", ["main"]),
    ]
    assert localenv.mirror(entries) == "http://mirror.invalid/debian"
