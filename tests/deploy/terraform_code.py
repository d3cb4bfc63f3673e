"""Read the Terraform code under deploy/terraform with python-hcl2, for static tests.

python-hcl2 keeps string literals in their quotes ("\"x\"") and expressions as "${...}";
the helpers here strip the quotes so tests compare plain values, and can still tell a
literal from an expression (`is_literal`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "deploy" / "terraform"
MODULES = TERRAFORM / "modules"
ENVS = TERRAFORM / "envs"
MODULE_NAMES = (
    "network",
    "app_host",
    "balancer",
    "uploads_storage",
    "database",
    "dns",
    "secrets",
    "alarms",
)
ENV_NAMES = ("staging", "production")


def unquote(value: object) -> object:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            # A template whose ${...} holds quotes of its own: keep its text as written.
            return value[1:-1]
    return value


def clean(value: object) -> object:
    """Plain Python values: keys and literals unquoted, parser bookkeeping dropped."""
    if isinstance(value, dict):
        return {str(unquote(k)): clean(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return unquote(value)


def is_literal(raw: object) -> bool:
    """A quoted string with no interpolation: a value written out in the code."""
    return isinstance(raw, str) and raw.startswith('"') and "${" not in raw


REGEX_CALL = re.compile(r'regex\("((?:[^"\\]|\\.)*)"')


def hcl_regexes(expression: str) -> list[str]:
    """The patterns of every regex("...", ...) call in an HCL expression, unescaped."""
    return [json.loads(f'"{body}"') for body in REGEX_CALL.findall(expression)]


@cache
def parse(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle)


def tf_files() -> list[Path]:
    return sorted(p for p in TERRAFORM.rglob("*.tf") if ".terraform" not in p.parts)


def config_dirs() -> list[Path]:
    """Every directory holding .tf files: modules, their examples, envs, bootstrap."""
    return sorted({p.parent for p in tf_files()})


@dataclass(frozen=True)
class Block:
    path: Path
    kind: str  # resource type, or "variable"/"output"/...
    name: str
    raw: dict  # as python-hcl2 returned it

    @property
    def body(self) -> dict:
        return clean(self.raw)


def resources(
    resource_type: str | None = None, *, under: Path = TERRAFORM, section: str = "resource"
) -> Iterator[Block]:
    """resource blocks (or, with section="data", data sources) under a directory."""
    for path in tf_files():
        if under not in path.parents:
            continue
        for entry in parse(path).get(section, []):
            for rtype, named in entry.items():
                rtype = str(unquote(rtype))
                if resource_type and rtype != resource_type:
                    continue
                for name, body in named.items():
                    yield Block(path, rtype, str(unquote(name)), body)


def top_blocks(kind: str, directory: Path) -> dict[str, Block]:
    """variable / output / module / locals blocks of one configuration directory."""
    found: dict[str, Block] = {}
    for path in sorted(directory.glob("*.tf")):
        for entry in parse(path).get(kind, []):
            if kind == "locals":
                for name, value in entry.items():
                    if not name.startswith("__"):
                        found[name] = Block(path, kind, name, {"value": value})
                continue
            for name, body in entry.items():
                found[str(unquote(name))] = Block(path, kind, str(unquote(name)), body)
    return found


def resource(directory: Path, resource_type: str, name: str) -> Block:
    for block in resources(resource_type, under=directory):
        if block.path.parent == directory and block.name == name:
            return block
    raise LookupError(f"{resource_type}.{name} not in {directory}")


def one(value: object) -> dict:
    """Nested blocks come back as lists of one dict."""
    if isinstance(value, list):
        assert len(value) == 1, value
        return value[0]
    assert isinstance(value, dict), value
    return value
