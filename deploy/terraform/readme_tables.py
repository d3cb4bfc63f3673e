"""Write the Inputs/Outputs tables of each Terraform module's README from its .tf files.

terraform-docs does this where a Terraform toolchain is installed; this stand-in needs only
python-hcl2 (a dev dependency), so the tables can be regenerated and checked on machines
without Terraform. The tables sit between the same markers terraform-docs uses, so either
tool can own them.

    python deploy/terraform/readme_tables.py          # rewrite every module README
    python deploy/terraform/readme_tables.py --check  # exit 1 if any README is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import hcl2

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
MODULES_DIR = Path(__file__).resolve().parent / "modules"


def unquote(value: object) -> object:
    """python-hcl2 keeps string literals quoted ("\"x\""); expressions stay as ${...}."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            # A template whose ${...} holds quotes of its own: keep its text as written.
            return value[1:-1]
    return value


def expression(value: object) -> str:
    """Show a type or default the way it is written in HCL."""
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | dict):
        return json.dumps(clean(value))
    return str(value)


def shown_default(raw: object) -> str:
    # A string default stays quoted, as in HCL, so "none" is not mistaken for a keyword.
    if isinstance(raw, str) and raw.startswith('"'):
        return raw
    return expression(clean(raw))


def clean(value: object) -> object:
    if isinstance(value, dict):
        return {str(unquote(k)): clean(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return unquote(value)


def blocks(module_dir: Path, kind: str) -> dict[str, dict]:
    """Every `kind` block ("variable", "output") of a module, by name, in file order."""
    found: dict[str, dict] = {}
    for path in sorted(module_dir.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle)
        for entry in parsed.get(kind, []):
            for name, body in entry.items():
                found[str(unquote(name))] = body
    return found


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def tables(module_dir: Path) -> str:
    lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |"]
    lines.append("|------|-------------|------|---------|:--------:|")
    for name, body in sorted(blocks(module_dir, "variable").items()):
        has_default = "default" in body
        default = f"`{cell(shown_default(body['default']))}`" if has_default else "n/a"
        description = cell(str(unquote(body.get("description", ""))))
        type_ = f"`{cell(expression(body.get('type', 'any')))}`"
        required = "no" if has_default else "yes"
        lines.append(f"| `{name}` | {description} | {type_} | {default} | {required} |")
    lines += ["", "## Outputs", "", "| Name | Description | Sensitive |"]
    lines.append("|------|-------------|:---------:|")
    for name, body in sorted(blocks(module_dir, "output").items()):
        description = cell(str(unquote(body.get("description", ""))))
        sensitive = "yes" if body.get("sensitive") is True else "no"
        lines.append(f"| `{name}` | {description} | {sensitive} |")
    return "\n".join(lines)


def render(readme: str, module_dir: Path) -> str:
    head, _, rest = readme.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{tables(module_dir)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for module_dir in sorted(p for p in MODULES_DIR.iterdir() if p.is_dir()):
        readme_path = module_dir / "README.md"
        current = readme_path.read_text(encoding="utf-8")
        if BEGIN not in current or END not in current:
            stale.append(f"{readme_path}: no {BEGIN} / {END} markers")
            continue
        wanted = render(current, module_dir)
        if wanted != current:
            if check:
                stale.append(f"{readme_path}: tables out of date")
            else:
                readme_path.write_text(wanted, encoding="utf-8")
    for line in stale:
        print(line, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
