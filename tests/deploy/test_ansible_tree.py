"""deploy/ansible: the roles' shape, their checked configuration files, the playbooks'
syntax, the local inventory agreeing with the environment harness, and the runbooks naming
only units and paths the roles make. ansible-lint --profile production runs in make lint;
the roles running for real is make deploy-test (tests/deploy/test_zero_downtime.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.deploy.terraform_code import ROOT

pytestmark = pytest.mark.static

ANSIBLE = ROOT / "deploy" / "ansible"
ROLES = sorted(p for p in (ANSIBLE / "roles").iterdir() if p.is_dir())
ANSIBLE_BIN = ROOT / ".venv-ansible" / "bin"
# Files written without a checker, and why. Everything else under these directories that a
# template or copy task writes must have `validate:`.
NO_CHECKER = {
    # The monitoring and backup roles (merged late): files with no checker of their own, or
    # whose checker (promtool, amtool, systemd-analyze) runs elsewhere in the role. Each is
    # named here so that any new unchecked file still fails this test; giving each a check of
    # its own is open work (issue 10).
    "/etc/bookdesk/backup/{{ item.name }}.json": "JSON settings the backup script reads",
    "/etc/systemd/system/{{ item.1 | replace('NAME', item.0.name) }}": "backup units, open",
    "/etc/default/mtail": "a daemon's default arguments",
    "/etc/default/prometheus-nginx-exporter": "a daemon's default arguments",
    "/etc/default/prometheus-node-exporter": "a daemon's default arguments",
    "/etc/default/prometheus-postgres-exporter": "a daemon's default arguments",
    "/etc/default/prometheus": "a daemon's default arguments",
    "/etc/prometheus/templates/bookdesk.tmpl": "checked by amtool with the Alertmanager file",
    "/etc/default/prometheus-alertmanager": "a daemon's default arguments",
    "/etc/default/prometheus-blackbox-exporter": "a daemon's default arguments",
    "/etc/logrotate.d/bookdesk-central": "logrotate configuration, open",
    "/etc/systemd/journald.conf.d/bookdesk.conf": "journald has no configuration checker",
    "/etc/systemd/timesyncd.conf.d/bookdesk.conf": "timesyncd has no configuration checker",
    "{{ app_config_dir }}/bookdesk.env": "an environment file; the app checks its values at start",
    "{{ app_config_dir }}/web-{{ app_web_colour }}.env": "an environment file (port, directory)",
    "/etc/ssl/bookdesk/fullchain.pem": "a certificate; nginx -t runs at the reload it notifies",
    "/etc/ssl/bookdesk/privkey.pem": "a key; nginx -t runs at the reload it notifies",
    "/etc/ssl/bookdesk/backend-ca.pem": "a CA certificate for the balancer's checks",
    "/etc/letsencrypt/renewal-hooks/deploy/bookdesk-reload-nginx": "a two-line script",
}
CONFIG_DIRS = ("/etc/", "{{ app_config_dir }}")


def role_tasks(role):
    for path in sorted((role / "tasks").glob("*.yml")):
        yield path, yaml.safe_load(path.read_text()) or []


def flatten(tasks):
    for task in tasks:
        yield task
        for key in ("block", "rescue", "always"):
            yield from flatten(task.get(key, []))


def defaults_with_comments(role) -> dict[str, bool]:
    """variable -> whether a comment line sits directly above it (or above its group)."""
    found = {}
    previous = ""
    for line in (role / "defaults" / "main.yml").read_text().splitlines():
        match = re.match(r"^([a-z]\w*):", line)
        if match:
            found[match.group(1)] = previous.startswith("#")
        if line.strip() and not line.startswith(" "):
            previous = line
    return found


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_has_the_galaxy_shape(role):
    for part in ("defaults/main.yml", "meta/main.yml", "meta/argument_specs.yml", "tasks/main.yml"):
        assert (role / part).is_file(), f"{role.name} lacks {part}"
    meta = yaml.safe_load((role / "meta" / "main.yml").read_text())
    info = meta["galaxy_info"]
    assert info["role_name"] == role.name
    assert {"description", "license", "min_ansible_version", "platforms"} <= set(info)
    uses_handlers = any(
        "notify" in task for _, tasks in role_tasks(role) for task in flatten(tasks)
    )
    assert uses_handlers == (role / "handlers" / "main.yml").is_file()


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_default_is_commented_prefixed_and_specified(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    comments = defaults_with_comments(role)
    assert set(comments) == set(defaults)
    uncommented = [name for name, commented in comments.items() if not commented]
    assert uncommented == [], f"{role.name}: no comment above {uncommented}"
    assert all(name.startswith(f"{role.name}_") for name in defaults)
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    options = specs["main"]["options"]
    assert set(options) == set(defaults), f"{role.name}: argument_specs and defaults differ"
    for name, option in options.items():
        assert option.get("description"), f"{role.name}: {name} has no description"
        assert option.get("type"), f"{role.name}: {name} has no type"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_config_file_is_checked_before_it_replaces_the_old(role):
    unchecked = []
    for path, tasks in role_tasks(role):
        for task in flatten(tasks):
            for module in ("ansible.builtin.template", "ansible.builtin.copy"):
                args = task.get(module)
                if not args:
                    continue
                dest = args["dest"]
                if not dest.startswith(CONFIG_DIRS) or dest in NO_CHECKER:
                    continue
                if "validate" not in args:
                    unchecked.append(f"{path.name}: {task['name']} ({dest})")
    assert unchecked == []


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_tasks_use_full_module_names_and_names(role):
    keywords = {
        "name",
        "when",
        "tags",
        "register",
        "loop",
        "loop_control",
        "vars",
        "notify",
        "become",
        "become_user",
        "delegate_to",
        "delegate_facts",
        "run_once",
        "changed_when",
        "failed_when",
        "until",
        "retries",
        "delay",
        "no_log",
        "diff",
        "environment",
        "block",
        "rescue",
        "always",
        "args",
        "ignore_errors",
    }
    for path, tasks in role_tasks(role):
        for task in flatten(tasks):
            assert task.get("name"), f"{role.name}/{path.name}: a task without a name"
            modules = [k for k in task if k not in keywords]
            if "block" in task:
                assert modules == []
                continue
            assert len(modules) == 1 and modules[0].count(".") == 2, (path.name, modules)


def test_local_inventory_matches_the_environment_harness():
    sys.path.insert(0, str(ROOT / "deploy" / "env"))
    import localenv

    hosts = {h.name: h for h in localenv.read_hosts()}
    assert set(hosts) == {"db", "staging-app1", "prod-lb", "prod-app1", "prod-app2"}
    for host in hosts.values():
        envs = {"bookdesk_staging", "bookdesk_production", "bookdesk_local_services"}
        assert len(envs & set(host.groups)) == 1, host
    assert "bookdesk_balancer" in hosts["prod-lb"].groups
    assert {"bookdesk_database", "bookdesk_redis", "bookdesk_smtp_sink"} <= set(hosts["db"].groups)


@pytest.mark.parametrize("playbook", ["site.yml", "deploy.yml", "rollback.yml"])
def test_playbooks_pass_the_syntax_check(playbook):
    assert (ANSIBLE_BIN / "ansible-playbook").exists(), "make ansible-venv first"
    result = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-playbook"), "--syntax-check", "-i", "inventories/local",
         playbook, "-e", "bookdesk_deploy_env=staging"],
        cwd=ANSIBLE, capture_output=True, text=True, check=False,
        env={**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg")},
    )  # fmt: skip
    assert result.returncode == 0, f"{result.stdout}{result.stderr}"


@pytest.mark.parametrize("env", ["staging", "production"])
def test_aws_inventories_find_the_hosts_terraform_tags(env):
    """Terraform tags each host AnsibleGroup=bookdesk_<env> (modules/app_host); the aws_ec2
    inventory must filter on that tag and make the group of the same name. (Parsing it for
    real needs AWS; it is not done here.)"""
    plugin = yaml.safe_load((ANSIBLE / "inventories" / env / "aws_ec2.yml").read_text())
    assert plugin["plugin"] == "amazon.aws.aws_ec2"
    assert plugin["filters"]["tag:AnsibleGroup"] == f"bookdesk_{env}"
    assert {"key": "tags.AnsibleGroup", "separator": ""} in plugin["keyed_groups"]
    assert "bookdesk_app" in plugin["groups"]
    terraform = (ROOT / "deploy/terraform/modules/app_host/main.tf").read_text()
    assert 'ansible_group        = "bookdesk_${var.environment}"' in terraform
    group_vars = ANSIBLE / "inventories" / env / "group_vars" / "all.yml"
    settings = yaml.safe_load(group_vars.read_text())
    assert settings["app_env"] == env
    assert "amazon.aws.aws_ssm" in settings["app_secret_key"]
    assert settings["nginx_tls_mode"] == "certbot"


def test_runbooks_name_units_and_paths_the_roles_make():
    """The runbooks named `systemctl restart bookdesk-web` and `deploy/ansible` before either
    existed; every unit and playbook they name must now be real."""
    units = {p.name.removesuffix(".j2") for p in ANSIBLE.glob("roles/*/templates/*.service.j2")}
    units |= {p.name for p in ANSIBLE.glob("roles/*/files/*.service")}
    text = "\n".join(p.read_text() for p in (ROOT / "docs" / "runbooks").glob("*.md"))
    named = re.findall(r"systemctl \w+ [\"']?(bookdesk-[\w-]+)(@?)", text)
    assert named, "the runbooks name no Bookdesk unit at all"
    for name, template in named:
        unit = f"{name}@.service" if template else f"{name}.service"
        assert unit in units, f"the runbooks name {unit}, which no role installs"
    assert "rollback.yml" in text and (ANSIBLE / "rollback.yml").is_file()
    assert "/srv/bookdesk/live-colour" in text
