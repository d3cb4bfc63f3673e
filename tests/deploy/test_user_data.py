"""The app host's user data: rendered here the way Terraform's templatefile() would for
this template, then checked by bash and by JSON, so a typo fails before a host boots."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.deploy.terraform_code import MODULES, resource

pytestmark = pytest.mark.static

TEMPLATE = MODULES / "app_host" / "templates" / "user-data.sh.tftpl"
FOR_LOOP = re.compile(r"%\{ for (\w+) in (\w+) ~\}\n(.*?)%\{ endfor ~\}\n", re.S)
INTERPOLATION = re.compile(r"(?<!\$)\$\{(\w+)\}")

FACTS = {
    "environment": "staging",
    "region": "eu-central-1",
    "deploy_user": "deploy",
    "uploads_mount_point": "/srv/bookdesk/uploads",
    "cloudwatch_namespace": "Bookdesk/Host",
    "ansible_group": "bookdesk_staging",
}
VALUES = {
    "host_facts_json": json.dumps(FACTS),
    "deploy_user": "deploy",
    "admin_ssh_public_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly ops@laptop"],
    "uploads_mount_point": "/srv/bookdesk/uploads",
    "uploads_nfs_target": "",
    "cloudwatch_namespace": "Bookdesk/Host",
    "region": "eu-central-1",
}
BALANCER_TEMPLATE = MODULES / "balancer" / "templates" / "user-data.sh.tftpl"


def render(text: str, values: dict) -> str:
    """The subset of Terraform's template language this template uses: ${name},
    `%{ for x in list ~}` loops (with ~ trimming the directive's line), and $${ escapes."""

    def loop(match: re.Match) -> str:
        name, collection, body = match.groups()
        return "".join(body.replace(f"${{{name}}}", str(item)) for item in values[collection])

    text = FOR_LOOP.sub(loop, text)
    assert "%{" not in text, "template directive not understood by the test"
    text = INTERPOLATION.sub(lambda m: str(values[m.group(1)]), text)
    return text.replace("$${", "${")


@pytest.fixture(scope="module")
def script() -> str:
    return render(TEMPLATE.read_text(encoding="utf-8"), VALUES)


@pytest.mark.parametrize("module", ["app_host", "balancer"])
def test_template_variables_are_exactly_those_terraform_passes(module):
    call = resource(MODULES / module, "aws_instance", "this").raw["user_data"]
    passed = set(re.findall(r"[{,]\s*(\w+) = ", call))
    text = (MODULES / module / "templates" / "user-data.sh.tftpl").read_text(encoding="utf-8")
    used = set(INTERPOLATION.findall(text)) | {m[1] for m in FOR_LOOP.findall(text)}
    used -= {m[0] for m in FOR_LOOP.findall(text)}  # loop variables
    assert used == passed


def test_rendered_user_data_is_valid_bash(script, tmp_path):
    path = tmp_path / "user-data.sh"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert script.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in script


def heredoc(script: str, marker: str, after: str) -> str:
    opening = f"<<'{marker}'\n"
    start = script.index(opening, script.index(after)) + len(opening)
    return script[start : script.index(f"\n{marker}\n", start)]


def test_cloudwatch_agent_config_is_json_with_the_alarm_dimensions(script):
    config = json.loads(heredoc(script, "JSON", "amazon-cloudwatch-agent.json"))
    metrics = config["metrics"]
    assert metrics["namespace"] == "Bookdesk/Host"
    assert metrics["append_dimensions"] == {"InstanceId": "${aws:InstanceId}"}
    # The alarms module looks disk_used_percent up by InstanceId and path.
    assert ["InstanceId", "path"] in metrics["aggregation_dimensions"]
    assert metrics["metrics_collected"]["disk"]["resources"] == ["/", "/srv/bookdesk/uploads"]


def test_host_facts_are_written_as_json_for_ansible(script):
    assert json.loads(heredoc(script, "JSON", "/etc/bookdesk/host.json")) == FACTS


def test_ssh_keys_land_in_the_deploy_users_authorized_keys(script):
    keys = heredoc(script, "KEYS", "authorized_keys")
    assert keys == VALUES["admin_ssh_public_keys"][0]


def test_hand_over_marker_is_written_last(script):
    lines = [line for line in script.splitlines() if line and not line.startswith("echo")]
    assert "/etc/bookdesk/bootstrap-complete" in lines[-1]


def test_uploads_volume_is_only_formatted_when_blank(script):
    assert 'blkid "$data_disk" >/dev/null || mkfs.xfs' in script
    assert "nofail" in script


def test_a_shared_volume_is_mounted_over_nfs_instead(tmp_path):
    shared = render(
        TEMPLATE.read_text(encoding="utf-8"),
        {**VALUES, "uploads_nfs_target": "fs-0123456789abcdef0.efs.eu-central-1.amazonaws.com"},
    )
    assert 'uploads_nfs_target="fs-0123456789abcdef0.efs.eu-central-1.amazonaws.com"' in shared
    assert "nfs4 nfsvers=4.1" in shared
    path = tmp_path / "user-data.sh"
    path.write_text(shared, encoding="utf-8")
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_balancer_user_data_is_valid_bash_and_hands_over_last(tmp_path):
    facts = {**FACTS, "ansible_function": "bookdesk_balancer"}
    script = render(
        BALANCER_TEMPLATE.read_text(encoding="utf-8"),
        {**VALUES, "host_facts_json": json.dumps(facts)},
    )
    path = tmp_path / "user-data.sh"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(heredoc(script, "JSON", "/etc/bookdesk/host.json")) == facts
    lines = [line for line in script.splitlines() if line and not line.startswith("echo")]
    assert "/etc/bookdesk/bootstrap-complete" in lines[-1]
