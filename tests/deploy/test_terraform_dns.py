"""The DNS module publishes what Brevo and Let's Encrypt need, and publishes it well formed.

The record values are rendered here from the module's templates with the module defaults
and the production example variables, then checked against the record grammars. The exact
Route 53 payloads are also asserted by `terraform test` (modules/dns/tests) on GitHub.
"""

from __future__ import annotations

import re

import pytest

from tests.deploy.terraform_code import ENVS, MODULES, clean, hcl_regexes, one, parse, top_blocks
from tests.deploy.terraform_code import resource as tf_resource
from tests.deploy.terraform_code import resources as tf_resources

pytestmark = pytest.mark.static

DNS = MODULES / "dns"
PRODUCTION = ENVS / "production"

SPF_GRAMMAR = re.compile(r"^v=spf1( include:[a-z0-9.-]+\.[a-z]{2,})+ [~-]all$")
DMARC_GRAMMAR = re.compile(
    r"^v=DMARC1; p=(none|quarantine|reject); "
    r"rua=mailto:[^@\s,;]+@[^@\s,;]+(,mailto:[^@\s,;]+@[^@\s,;]+)*(; [a-z]+=[a-z0-9]+)*$"
)
JOIN_FORMATLIST = re.compile(r'\$\{join\("([^"]*)", formatlist\("([^"]*)", var\.(\w+)\)\)\}')
VARIABLE = re.compile(r"\$\{var\.(\w+)\}")


def render(template: str, values: dict) -> str:
    """Evaluate the two template shapes the module uses; anything else fails the test."""
    text = JOIN_FORMATLIST.sub(
        lambda m: m.group(1).join(
            m.group(2).replace("%s", "{}").format(v) for v in values[m.group(3)]
        ),
        template,
    )
    text = VARIABLE.sub(lambda m: str(values[m.group(1)]), text)
    assert "${" not in text, f"template shape not understood by the test: {template}"
    return text


def dns_variables() -> dict:
    return {name: block.body for name, block in top_blocks("variable", DNS).items()}


def production_values() -> dict:
    """Module defaults overlaid with the production example's variables."""
    values = {n: v["default"] for n, v in dns_variables().items() if "default" in v}
    example = clean(parse(PRODUCTION / "terraform.tfvars.example"))
    values.update({k: v for k, v in example.items() if k in dns_variables()})
    return values


def local(name: str) -> str:
    return top_blocks("locals", DNS)[name].body["value"]


def validation_regexes(variable: str) -> list[re.Pattern]:
    block = top_blocks("variable", DNS)[variable]
    conditions = [rule["condition"] for rule in block.raw.get("validation", [])]
    patterns = [p for c in conditions for p in hcl_regexes(c)]
    assert patterns, f"variable {variable} has no regex validation"
    return [re.compile(p) for p in patterns]


def record(name: str) -> dict:
    return tf_resource(DNS, "aws_route53_record", name).body


def test_spf_record_includes_brevo_and_ends_with_all():
    values = production_values()
    spf = render(local("spf_record"), values)
    assert SPF_GRAMMAR.match(spf), spf
    assert "include:spf.brevo.com" in spf.split()
    assert spf.endswith(("~all", "-all"))


def test_spf_all_cannot_be_loosened_to_pass_everyone():
    allowed = dns_variables()["spf_all"]
    condition = top_blocks("variable", DNS)["spf_all"].body["validation"][0]["condition"]
    assert '["~all", "-all"]' in condition
    assert allowed["default"] in ("~all", "-all")


def test_apex_txt_holds_brevo_code_and_spf_in_one_record_set():
    apex = record("apex_txt")
    assert apex["type"] == "TXT"
    assert apex["name"] == "${var.domain}"
    assert apex["records"] == ["${var.brevo_code}", "${local.spf_record}"]
    # Route 53 keeps one TXT set per name: a second apex TXT resource would fight this one.
    apex_txt = [
        b
        for b in tf_resources("aws_route53_record", under=DNS)
        if b.body["type"] == "TXT" and b.body["name"] == "${var.domain}"
    ]
    assert len(apex_txt) == 1


def test_brevo_code_validation_accepts_brevo_values_only():
    [pattern] = validation_regexes("brevo_code")
    assert pattern.search("brevo-code:9f0c1e2d3b4a5968778695a4b3c2d1e0")
    assert not pattern.search("brevo-code:")
    assert not pattern.search("v=spf1 include:spf.brevo.com ~all")
    assert pattern.search(production_values()["brevo_code"])


def test_dkim_records_follow_brevo_and_the_example_is_valid():
    cname = record("dkim_cname")
    txt = record("dkim_txt")
    assert (cname["type"], cname["name"]) == ("CNAME", "${each.key}._domainkey.${var.domain}")
    assert (txt["type"], txt["name"]) == ("TXT", "${each.key}._domainkey.${var.domain}")
    [target] = validation_regexes("brevo_dkim_cnames")
    assert target.search("b1.example-org.dkim.brevo.com")
    assert not target.search("dkim.attacker.example")
    [key] = validation_regexes("brevo_dkim_txt")
    assert key.search("k=rsa;p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC1")
    assert not key.search("v=spf1 ~all")
    example = production_values()["brevo_dkim_cnames"]
    assert example and all(target.search(v) for v in example.values())


def test_long_dkim_keys_are_split_into_255_character_strings():
    assert 'regexall(".{1,255}", key)' in local("dkim_txt")


def test_dmarc_record_has_policy_and_report_address():
    values = production_values()
    dmarc = record("dmarc")
    assert dmarc["name"] == "_dmarc.${var.domain}"
    assert dmarc["type"] == "TXT"
    assert dmarc["records"] == ["${local.dmarc_record}"]
    text = render(local("dmarc_record"), values)
    assert DMARC_GRAMMAR.match(text), text
    for policy in ("none", "quarantine", "reject"):
        assert DMARC_GRAMMAR.match(
            render(local("dmarc_record"), {**values, "dmarc_policy": policy})
        )


def test_dmarc_without_report_address_is_refused():
    conditions = [p["condition"] for p in one(record("dmarc")["lifecycle"])["precondition"]]
    assert "${length(var.dmarc_rua) > 0}" in conditions


def test_caa_allows_lets_encrypt_and_no_wildcards():
    assert dns_variables()["caa_issuers"]["default"] == ["letsencrypt.org"]
    caa = record("caa")
    assert caa["type"] == "CAA"
    assert caa["name"] == "${var.domain}"
    template = local("caa_records")
    assert '"0 issue \\"${ca}\\""' in template
    assert '"0 issuewild \\";\\""' in template


def test_production_owns_the_domain_records_and_staging_does_not():
    prod = top_blocks("module", PRODUCTION)["dns"].body
    staging = top_blocks("module", ENVS / "staging")["dns"].body
    assert prod["manage_domain_records"] is True
    assert staging["manage_domain_records"] is False
    for name in ("brevo_code", "brevo_dkim_cnames", "brevo_dkim_txt", "dmarc_rua"):
        assert prod[name] == f"${{var.{name}}}"
    for name in ("caa", "apex_txt", "dmarc"):
        assert record(name)["count"] == "${var.manage_domain_records ? 1 : 0}"


def test_site_has_address_records():
    a = record("a")
    assert (a["type"], a["records"]) == ("A", ["${var.ipv4_address}"])
    aaaa = record("aaaa")
    assert (aaaa["type"], aaaa["records"]) == ("AAAA", ["${var.ipv6_address}"])
