"""deploy/compose/compose.yaml: valid against the Compose specification's schema, every
image pinned, start-up ordered by health, uploads on a named volume, the monitoring
profile wired to the project's own configs. No Docker engine runs here; the GitHub
workflow runs `docker compose config` as well."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import jsonschema
import pytest
import yaml

from tests.deploy.terraform_code import ROOT

pytestmark = pytest.mark.static

COMPOSE_DIR = ROOT / "deploy" / "compose"
SCHEMA = ROOT / "tests" / "deploy" / "compose_spec" / "compose_spec.json"
APP_SERVICES = ("app", "worker", "migrate")


@pytest.fixture(scope="module")
def compose() -> dict:
    with (COMPOSE_DIR / "compose.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def test_compose_file_matches_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_check_catches_a_misspelt_key(compose):
    # The schema is strict about service keys, so the test above can fail.
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = {**compose, "services": {**compose["services"], "db": {"imagee": "postgres:15"}}}
    assert list(jsonschema.Draft201909Validator(schema).iter_errors(broken))


def test_every_image_is_pinned_to_a_version(services):
    for name, service in services.items():
        image = service["image"]
        assert "${" not in image, f"{name}: the tag must be written in the file"
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag not in ("latest", "stable", "edge", "main"), f"{name}: {image}"
        if "build" not in service:
            assert re.search(r"\d+\.\d+", tag), f"{name}: {image} is not a version tag"


def test_app_and_worker_wait_for_the_database_and_migrations(services):
    for name in ("app", "worker"):
        depends = services[name]["depends_on"]
        assert depends["db"] == {"condition": "service_healthy"}
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["depends_on"]["db"] == {"condition": "service_healthy"}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["nginx"]["depends_on"]["app"] == {"condition": "service_healthy"}


def test_every_dependency_names_a_condition(services):
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert rule["condition"] in (
                "service_healthy",
                "service_completed_successfully",
            ), f"{name} -> {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no health check"


def test_long_running_services_have_health_checks(services):
    for name, service in services.items():
        if name != "migrate":
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_app_health_check_uses_healthz(services):
    assert "http://127.0.0.1:8000/healthz" in " ".join(services["app"]["healthcheck"]["test"])


def test_uploads_live_on_a_named_volume_shared_by_app_and_worker(compose, services):
    containerfile = (ROOT / "deploy" / "container" / "Containerfile").read_text(encoding="utf-8")
    uploads_root = re.search(r"UPLOADS_ROOT=(\S+)", containerfile).group(1)
    assert "uploads" in compose["volumes"]
    for name in APP_SERVICES:
        assert f"uploads:{uploads_root}" in services[name]["volumes"], name


def test_app_image_is_built_from_the_containerfile(services):
    for name in APP_SERVICES:
        build = services[name]["build"]
        assert (COMPOSE_DIR / build["context"] / build["dockerfile"]).resolve() == (
            ROOT / "deploy" / "container" / "Containerfile"
        )


def test_mail_goes_to_mailpit(services):
    for name in APP_SERVICES:
        assert services[name]["environment"]["EMAIL_URL"] == "smtp://mailpit:1025?tls=false"
    assert "127.0.0.1:${MAILPIT_UI_PORT:-8025}:8025" in services["mailpit"]["ports"]


def test_published_ports_are_loopback_only(services):
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def test_monitoring_profile_mounts_the_projects_configs(services):
    wanted = {
        "prometheus": "../monitoring/prometheus",
        "alertmanager": "../monitoring/alertmanager",
        "blackbox": "../monitoring/blackbox/blackbox.yml",
    }
    for name, source in wanted.items():
        service = services[name]
        assert service["profiles"] == ["monitoring"]
        sources = [v.split(":")[0] for v in service["volumes"]]
        assert source in sources, name
    monitoring = ROOT / "deploy" / "monitoring"
    for path in (
        "prometheus/prometheus.yml",
        "alertmanager/alertmanager.yml",
        "blackbox/blackbox.yml",
    ):
        assert (monitoring / path).is_file(), f"deploy/monitoring/{path} is missing"
    others = [n for n, s in services.items() if n not in wanted]
    assert all("profiles" not in services[n] for n in others)


def test_env_example_documents_every_variable(compose):
    text = (COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    example = (COMPOSE_DIR / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, flags=re.M))
    assert used == documented, {"undocumented": used - documented, "unused": documented - used}
    assert re.search(r"^POSTGRES_PASSWORD=$", example, flags=re.M), "no password in the example"


def test_nginx_config_is_accepted_by_nginx(tmp_path):
    # nginx-light is a Debian package of the test machines (.ci/run installs it). The
    # upstream host "app" only resolves inside Compose; the syntax is what is checked.
    assert shutil.which("nginx"), "nginx is not installed (apt-get install nginx-light)"
    server = (COMPOSE_DIR / "nginx" / "bookdesk.conf").read_text(encoding="utf-8")
    uploads_snippet = COMPOSE_DIR.parent / "nginx" / "bookdesk-uploads.conf"
    assert "/etc/nginx/snippets/bookdesk-uploads.conf" in server, "uploads snippet not included"
    server = server.replace("app:8000", "127.0.0.1:8000").replace(
        "/etc/nginx/snippets/bookdesk-uploads.conf", str(uploads_snippet)
    )
    (tmp_path / "bookdesk.conf").write_text(server)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/bookdesk.conf;\n}}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_variable_references_use_compose_interpolation_syntax():
    text = (COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8")
    references = re.findall(r"\$\{[^}]*\}", text)
    assert references
    for reference in references:
        assert re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*(:?[-?][^}]*)?\}", reference), reference
    # A lone $ would be read as the start of a variable; literal dollars must be $$.
    assert not re.search(r"\$(?![{$])", text.replace("$$", ""))
