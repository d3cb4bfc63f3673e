"""What the plan requires of every Terraform resource, checked in the code itself."""

from __future__ import annotations

import re

import pytest

from tests.deploy.terraform_code import (
    MODULES,
    TERRAFORM,
    config_dirs,
    is_literal,
    one,
    resources,
    top_blocks,
)

pytestmark = pytest.mark.static

WORLD = {"0.0.0.0/0", "::/0"}
WEB_PORTS = {80, 443}


def for_each_literals(body: dict) -> list[str]:
    """The literal keys of a for_each such as toset(["80", "443"])."""
    return re.findall(r'"([^"]*)"', str(body.get("for_each", "")))


def rule_ports(body: dict) -> set[int]:
    ports = set()
    for key in ("from_port", "to_port"):
        value = body.get(key)
        if isinstance(value, int):
            ports.add(value)
        elif "each.key" in str(value):
            ports |= {int(p) for p in for_each_literals(body)}
        else:
            raise AssertionError(f"cannot tell the port of {body}: keep ports literal")
    return ports


def world_ingress_rules():
    """(where, protocol, ports) of every ingress rule open to the whole internet."""
    for block in resources("aws_vpc_security_group_ingress_rule"):
        body = block.body
        if body.get("cidr_ipv4") in WORLD or body.get("cidr_ipv6") in WORLD:
            yield f"{block.path}:{block.name}", body.get("ip_protocol"), rule_ports(body)
    for block in resources("aws_security_group_rule"):
        body = block.body
        cidrs = set(body.get("cidr_blocks", [])) | set(body.get("ipv6_cidr_blocks", []))
        if body.get("type") == "ingress" and cidrs & WORLD:
            yield f"{block.path}:{block.name}", body.get("protocol"), rule_ports(body)
    for block in resources("aws_security_group"):
        for rule in block.body.get("ingress", []):
            cidrs = set(rule.get("cidr_blocks", [])) | set(rule.get("ipv6_cidr_blocks", []))
            if cidrs & WORLD:
                yield f"{block.path}:{block.name}", rule.get("protocol"), rule_ports(rule)


def test_only_http_and_https_are_open_to_the_internet():
    rules = list(world_ingress_rules())
    assert rules, "expected the public web rules to be found"
    for where, protocol, ports in rules:
        assert protocol == "tcp", where
        assert ports <= WEB_PORTS, f"{where} opens {ports} to the internet"
    opened = set().union(*(ports for _, _, ports in rules))
    assert opened == WEB_PORTS


def test_ssh_is_only_open_to_the_admin_list():
    ssh_rules = [
        b for b in resources("aws_vpc_security_group_ingress_rule") if 22 in rule_ports(b.body)
    ]
    assert sorted(b.name for b in ssh_rules) == ["app_ssh_admin", "balancer_ssh_admin"]
    by_name = {b.name: b.body for b in ssh_rules}
    assert by_name["app_ssh_admin"]["for_each"] == "${toset(var.admin_ssh_cidrs)}"
    balancer = by_name["balancer_ssh_admin"]["for_each"]
    assert balancer == "${var.enable_balancer ? toset(var.admin_ssh_cidrs) : toset([])}"
    variable = top_blocks("variable", MODULES / "network")["admin_ssh_cidrs"].body
    assert variable["default"] == [], "no SSH unless someone lists admin networks"
    condition = variable["validation"][0]["condition"]
    assert '!contains(["0.0.0.0/0", "::/0"], cidr)' in condition


def test_default_security_group_is_closed():
    [default] = list(resources("aws_default_security_group"))
    assert "ingress" not in default.body and "egress" not in default.body


def test_instances_require_imdsv2():
    instances = list(resources("aws_instance")) + list(resources("aws_launch_template"))
    assert instances
    for block in instances:
        options = one(block.body["metadata_options"])
        assert options["http_tokens"] == "required", block.path


def test_every_storage_is_encrypted():
    instances = list(resources("aws_instance"))
    for block in instances:
        assert one(block.body["root_block_device"])["encrypted"] is True, block.path
        for device in block.body.get("ebs_block_device", []):
            assert device["encrypted"] is True, block.path
    volumes = list(resources("aws_ebs_volume"))
    assert volumes, "the uploads volume is missing"
    for block in volumes:
        assert block.body["encrypted"] is True, block.path
        assert block.body.get("kms_key_id"), block.path
    for block in resources("aws_efs_file_system"):
        assert block.body["encrypted"] is True, block.path
    databases = list(resources("aws_db_instance"))
    assert databases
    for block in databases:
        assert block.body["storage_encrypted"] is True, block.path
        assert block.body["publicly_accessible"] is False, block.path
    buckets = {(b.path.parent, b.name) for b in resources("aws_s3_bucket")}
    assert buckets, "the state bucket is missing"
    encrypted = {
        (
            b.path.parent,
            b.body["bucket"].removeprefix("${aws_s3_bucket.").split(".")[0].split("[")[0],
        )
        for b in resources("aws_s3_bucket_server_side_encryption_configuration")
    }
    assert buckets <= encrypted
    for block in resources("aws_s3_bucket_server_side_encryption_configuration"):
        rule = one(one(block.body["rule"])["apply_server_side_encryption_by_default"])
        assert rule["sse_algorithm"] == "aws:kms", block.path
    for block in resources("aws_sns_topic"):
        assert block.body.get("kms_master_key_id"), block.path
    for block in resources("aws_cloudwatch_log_group"):
        assert block.body.get("kms_key_id"), block.path
    for block in resources("aws_kms_key"):
        assert block.body["enable_key_rotation"] is True, block.path


def sensitive_variables(directory) -> set[str]:
    return {
        name
        for name, block in top_blocks("variable", directory).items()
        if block.body.get("sensitive") is True
    }


def ignores_value(body: dict) -> bool:
    lifecycle = body.get("lifecycle", [])
    return any("value" in entry.get("ignore_changes", []) for entry in lifecycle)


SECRET_ATTRIBUTES = {
    "aws_ssm_parameter": "value",
    "aws_secretsmanager_secret_version": "secret_string",
    "aws_db_instance": "password",
    "aws_rds_cluster": "master_password",
}


def test_no_secret_has_a_literal_value():
    checked = 0
    for rtype, attribute in SECRET_ATTRIBUTES.items():
        for block in resources(rtype):
            if rtype == "aws_ssm_parameter" and block.body.get("type") != "SecureString":
                continue
            raw = block.raw.get(attribute)
            if raw is None:
                continue
            checked += 1
            where = f"{block.path}: {rtype}.{block.name}.{attribute}"
            assert not is_literal(raw), f"{where} is written out in the code"
            match = re.fullmatch(r"\$\{(random_password\.\w+\.result|var\.(\w+))\}", str(raw))
            assert match, f"{where} = {raw}: use random_password or a sensitive variable"
            if match.group(2):
                assert match.group(2) in sensitive_variables(block.path.parent), (
                    f"{where}: variable {match.group(2)} must be sensitive = true"
                )
            if "placeholder" in str(raw):
                assert ignores_value(block.body), f"{where}: a placeholder needs ignore_changes"
    assert checked >= 4


def test_smtp_key_is_set_outside_terraform():
    [smtp_key] = [b for b in resources("aws_ssm_parameter") if b.name == "smtp_key"]
    assert ignores_value(smtp_key.body)
    assert smtp_key.body["value"] == "${random_password.smtp_placeholder.result}"


SECRET_REFERENCE = re.compile(
    r"random_password\.\w+\.result|aws_ssm_parameter\.\w+\.value|secret_string"
    r"|aws_db_instance\.\w+\.password|module\.\w+\.database_password"
)


def test_no_output_exposes_a_secret():
    leaks = []
    for directory in config_dirs():
        for name, block in top_blocks("output", directory).items():
            value = str(block.raw.get("value", ""))
            secret_vars = {f"var.{v}" for v in sensitive_variables(directory)}
            refers = SECRET_REFERENCE.search(value) or any(v in value for v in secret_vars)
            if refers and block.body.get("sensitive") is not True:
                leaks.append(f"{directory.relative_to(TERRAFORM)}: output {name}")
    assert not leaks
    sensitive = [
        (d.relative_to(TERRAFORM), n)
        for d in config_dirs()
        for n, b in top_blocks("output", d).items()
        if b.body.get("sensitive") is True
    ]
    # The one sensitive output feeds the database module; no environment re-exports it.
    assert [str(p) + ":" + n for p, n in sensitive] == ["modules/secrets:database_password"]


def test_instance_role_reads_only_its_own_secrets():
    [document] = [
        b
        for b in resources("aws_iam_policy_document", under=MODULES / "app_host", section="data")
        if b.name == "host"
    ]
    statements = {st["sid"]: st for st in document.body["statement"]}
    assert statements["ReadOwnSecrets"]["resources"] == "${var.secret_parameter_arns}"
    assert statements["DecryptOwnSecrets"]["resources"] == "${var.secret_kms_key_arns}"
    assert statements["DecryptOwnSecrets"]["actions"] == ["kms:Decrypt"]
    for sid, statement in statements.items():
        if statement["resources"] == ["*"]:
            # Only actions without resource types may use "*", and then with a condition.
            assert statement["actions"] == ["cloudwatch:PutMetricData"], sid
            assert statement.get("condition"), sid


def test_sensitive_variables_have_no_default_value():
    found = 0
    for directory in config_dirs():
        for name, block in top_blocks("variable", directory).items():
            if block.body.get("sensitive") is True:
                found += 1
                assert block.body.get("default") is None, f"{directory}: {name} has a default"
    assert found >= 4
