"""The checkers the lint and security stages add: ansible-lint that never passes on nothing,
the secret scan against its reviewed baseline, and the dependency audit that fails on a
known vulnerability but only says so when the advisory service is out of reach."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import PROJECT_DIR, free_port
from tests.pipeline.scripts import PIPELINE_DIR

pytestmark = pytest.mark.static

TOOLS = PROJECT_DIR / ".venv-tools" / "bin"


@pytest.fixture(autouse=True)
def tools_venv():
    assert (TOOLS / "python").exists(), "the tools venv is missing: run `make tools-venv`"


def lint_ansible(directory) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PIPELINE_DIR / "lint-ansible"), str(directory)],
        capture_output=True,
        text=True,
        timeout=180,
    )


# --- ansible-lint ---------------------------------------------------------------------------

GOOD_PLAYBOOK = """\
---
- name: Greet
  hosts: all
  gather_facts: false
  tasks:
    - name: Print a greeting
      ansible.builtin.debug:
        msg: hello
"""

BAD_PLAYBOOK = """\
---
- hosts: all
  tasks:
    - shell: echo hello
"""


def test_ansible_lint_says_so_when_there_is_no_tree_yet(tmp_path):
    result = lint_ansible(tmp_path / "ansible")
    assert result.returncode == 0
    assert "skipped: there is no" in result.stdout


def test_ansible_lint_refuses_an_empty_tree(tmp_path):
    (tmp_path / "ansible" / "roles").mkdir(parents=True)
    result = lint_ansible(tmp_path / "ansible")
    assert result.returncode == 1
    assert "nothing to lint" in result.stderr


def test_ansible_lint_passes_a_clean_playbook_and_fails_a_sloppy_one(tmp_path):
    tree = tmp_path / "ansible"
    (tree / "playbooks").mkdir(parents=True)
    (tree / "playbooks" / "site.yml").write_text(GOOD_PLAYBOOK)
    good = lint_ansible(tree)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "1 YAML files" in good.stdout
    (tree / "playbooks" / "sloppy.yml").write_text(BAD_PLAYBOOK)
    bad = lint_ansible(tree)
    assert bad.returncode != 0
    assert "name[play]" in bad.stdout + bad.stderr
    assert "fqcn" in bad.stdout + bad.stderr


# --- the secret scan ----------------------------------------------------------------------


def git_repo(path):
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    for key, value in (("user.email", "t@example.org"), ("user.name", "t")):
        subprocess.run(["git", "-C", str(path), "config", key, value], check=True)


def secret_scan(root) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TOOLS / "python"), str(PIPELINE_DIR / "secret_scan.py"), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_new_secret_fails_the_scan_until_it_is_reviewed(tmp_path):
    git_repo(tmp_path)
    (tmp_path / "app.py").write_text("GREETING = 'hello'\n")
    baseline = subprocess.run(
        [str(TOOLS / "detect-secrets"), "scan", "--no-verify"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (tmp_path / ".secrets.baseline").write_text(baseline)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    clean = secret_scan(tmp_path)
    assert clean.returncode == 0, clean.stdout
    assert "none new" in clean.stdout

    (tmp_path / "settings.py").write_text('aws_secret_access_key = "AKIAIOSFODNN7EXAMPLE"\n')
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    leaked = secret_scan(tmp_path)
    assert leaked.returncode == 1
    assert "not reviewed: settings.py:1" in leaked.stdout

    # A person looked and judged it harmless: the verdict goes into the baseline.
    refreshed = subprocess.run(
        [str(TOOLS / "detect-secrets"), "scan", "--baseline", ".secrets.baseline"],
        cwd=tmp_path,
        check=True,
    )
    assert refreshed.returncode == 0
    data = json.loads((tmp_path / ".secrets.baseline").read_text())
    for item in data["results"]["settings.py"]:
        item["is_secret"] = False
    (tmp_path / ".secrets.baseline").write_text(json.dumps(data))
    assert secret_scan(tmp_path).returncode == 0
    # The same value in a file that moved keeps its verdict: the value is what was judged.
    subprocess.run(["git", "-C", str(tmp_path), "mv", "settings.py", "config.py"], check=True)
    moved = secret_scan(tmp_path)
    assert moved.returncode == 0, moved.stdout
    subprocess.run(["git", "-C", str(tmp_path), "mv", "config.py", "settings.py"], check=True)

    for item in data["results"]["settings.py"]:
        item["is_secret"] = True
    (tmp_path / ".secrets.baseline").write_text(json.dumps(data))
    real = secret_scan(tmp_path)
    assert real.returncode == 1
    assert "a real secret is committed: settings.py:1" in real.stdout


def test_the_repositorys_baseline_has_every_finding_reviewed():
    data = json.loads((PROJECT_DIR / ".secrets.baseline").read_text())
    findings = [item for items in data["results"].values() for item in items]
    assert findings, "the baseline lists nothing: was it made by a scan?"
    assert all(item.get("is_secret") is False for item in findings)


# --- the dependency audit ---------------------------------------------------------------


class FakeOsv:
    """An OSV-compatible advisory service on loopback: one known vulnerability, of sqlparse."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body = {}
                if query["package"]["name"] == "sqlparse":
                    body = {
                        "vulns": [
                            {
                                "id": "GHSA-0000-test-0000",
                                "summary": "made up for the test",
                                "affected": [
                                    {
                                        "package": {"name": "sqlparse", "ecosystem": "PyPI"},
                                        "ranges": [
                                            {
                                                "type": "ECOSYSTEM",
                                                "events": [{"introduced": "0"}, {"fixed": "99.0"}],
                                            }
                                        ],
                                    }
                                ],
                            }
                        ]
                    }
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/query"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def audit(*locks, osv_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TOOLS / "python"), str(PIPELINE_DIR / "dependency_audit.py"), *map(str, locks)],
        env={"PATH": "/usr/bin:/bin", "AUDIT_OSV_URL": osv_url, "AUDIT_TIMEOUT": "5"},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_known_vulnerability_fails_the_audit():
    osv = FakeOsv()
    try:
        result = audit(PROJECT_DIR / "requirements" / "app.lock", osv_url=osv.url)
    finally:
        osv.close()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "VULNERABLE: sqlparse" in result.stdout
    assert "GHSA-0000-test-0000 (fixed in 99.0)" in result.stdout


def test_a_clean_lock_passes_the_audit(tmp_path):
    lock = tmp_path / "build.lock"
    shutil.copy(PROJECT_DIR / "requirements" / "build.lock", lock)
    osv = FakeOsv()
    try:
        result = audit(lock, osv_url=osv.url)
    finally:
        osv.close()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed: 3 packages, no known vulnerability" in result.stdout


def test_an_unreachable_advisory_service_is_said_plainly_and_does_not_fail():
    closed = f"http://127.0.0.1:{free_port()}/v1/query"
    result = audit(PROJECT_DIR / "requirements" / "app.lock", osv_url=closed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NOT CHECKED: the advisory service could not be reached" in result.stdout
