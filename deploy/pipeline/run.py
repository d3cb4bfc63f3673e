"""`make pipeline`: the CI/CD stages in order, on this machine (docs/pipeline.md).

Each stage is one make target (the same the GitHub workflows call); its output goes to
var/pipeline/<run>/<stage>.log. The runner shows each stage's state and duration as it
runs, stops at the first failure with the reason and the tail of its log, and asks before
production (or takes APPROVE=yes). It writes a JUnit XML file per stage and a summary
(summary.md, summary.json) to var/pipeline/<run>/; var/pipeline/latest points there.

The bundle made by `package` is the one both deploys receive (BUNDLE=...), and the
post-deploy checks look at what happened since deploy-production began (SINCE=...).

Standard library only: it runs before the build stage has made the venv.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Only writes the JUnit files; nothing here parses XML (bandit's B405 is about parsing).
from xml.etree import ElementTree as ET  # nosec B405

ROOT = Path(__file__).resolve().parents[2]
PR_STAGES = ["build", "lint", "migrations", "test", "security"]
DEPLOY_STAGES = [
    "package",
    "deploy-staging",
    "verify-staging",
    "approve",
    "deploy-production",
    "post-deploy",
]
ALL_STAGES = PR_STAGES + DEPLOY_STAGES
TAIL_LINES = 40


@dataclass
class StageResult:
    name: str
    state: str = "not run"  # passed, failed, declined, not run
    seconds: float = 0.0
    started: str = ""
    reason: str = ""
    log: str = ""


@dataclass
class Run:
    run_id: str
    directory: Path
    commit: str
    results: list[StageResult] = field(default_factory=list)
    bundle: str = ""
    bundle_sha256: str = ""
    rolled_back: bool | None = None


def commit_of(root: Path) -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def reason_from_log(log: Path, returncode: int) -> str:
    """The line that says why: a stage's own verdict, else make's, else the exit status."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    for marker in ("not available:", "FAILED", "FAIL ", "Error", "error:"):
        found = [line for line in lines if marker in line]
        if found:
            return found[-1 if marker != "not available:" else 0][:300]
    return f"exit status {returncode}"


def tail(log: Path, count: int = TAIL_LINES) -> list[str]:
    return log.read_text(errors="replace").splitlines()[-count:]


class Ticker:
    """The running stage's elapsed time: in place on a terminal, a line a minute otherwise."""

    def __init__(self, name: str, out, interactive: bool):
        self.name, self.out, self.interactive = name, out, interactive
        self.started = time.monotonic()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True)

    def _tick(self) -> None:
        period = 1.0 if self.interactive else 60.0
        while not self.stop.wait(period):
            elapsed = fmt_seconds(time.monotonic() - self.started)
            if self.interactive:
                self.out.write(f"\r  {self.name:<18} running  {elapsed}")
            else:
                self.out.write(f"  {self.name:<18} running  {elapsed}\n")
            self.out.flush()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        if self.interactive:
            self.out.write("\r" + " " * 50 + "\r")


class Pipeline:
    def __init__(
        self,
        *,
        stages: list[str],
        make: list[str],
        report_root: Path,
        approve: bool,
        ask=None,
        out=sys.stdout,
        interactive: bool | None = None,
        variables: dict[str, str] | None = None,
        root: Path = ROOT,
        echo: bool = False,
    ):
        self.echo = echo
        self.stages = stages
        self.make = make
        self.approve = approve
        self.ask = ask
        self.out = out
        self.interactive = out.isatty() if interactive is None else interactive
        self.variables = dict(variables or {})
        self.root = root
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        commit = commit_of(root)
        self.run = Run(
            run_id=f"{stamp}-{commit[:7]}",
            directory=report_root / f"{stamp}-{commit[:7]}",
            commit=commit,
        )

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    # --- stages -----------------------------------------------------------------------

    def make_args(self, name: str) -> list[str]:
        extra = dict(self.variables)
        if name in {"deploy-staging", "deploy-production"} and self.run.bundle:
            extra["BUNDLE"] = self.run.bundle
        if name == "post-deploy":
            extra.setdefault("ENV", "production")
            started = next(
                (r.started for r in self.run.results if r.name == "deploy-production"), ""
            )
            if started:
                extra["SINCE"] = started
        return [*self.make, "--no-print-directory", name, *(f"{k}={v}" for k, v in extra.items())]

    def run_stage(self, name: str) -> StageResult:
        result = StageResult(name=name, started=datetime.now(UTC).isoformat(timespec="seconds"))
        log = self.run.directory / f"{name}.log"
        result.log = str(log)
        began = time.monotonic()
        if name == "approve":
            self._approve(result, log)
        else:
            command = self.make_args(name)
            # Each stage is a make of its own: not a sub-make of the one that started us.
            env = {
                k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
            }
            with log.open("w") as handle:
                handle.write(f"$ {' '.join(command)}\n")
                handle.flush()
                if self.echo:
                    returncode = self._run_echoing(command, env, handle)
                else:
                    with Ticker(name, self.out, self.interactive):
                        returncode = subprocess.run(
                            command, cwd=self.root, env=env, stdout=handle,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False,
                        ).returncode  # fmt: skip
            result.state = "passed" if returncode == 0 else "failed"
            if returncode:
                result.reason = reason_from_log(log, returncode).removeprefix(f"{name}: ")
            elif name == "package":
                self._note_bundle(began)
        result.seconds = time.monotonic() - began
        return result

    def _run_echoing(self, command: list[str], env: dict, handle) -> int:
        """Run with the output both in the log and on our own output, line by line."""
        process = subprocess.Popen(
            command, cwd=self.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, errors="replace",
        )  # fmt: skip
        for line in process.stdout:
            handle.write(line)
            self.out.write(line)
        handle.flush()
        self.out.flush()
        return process.wait()

    def _approve(self, result: StageResult, log: Path) -> None:
        question = (
            f"Deploy {self.run.commit} to production"
            + (f" (bundle {Path(self.run.bundle).name})" if self.run.bundle else "")
            + "? [y/N] "
        )
        if self.approve:
            answer, how = "yes", "APPROVE=yes"
        elif self.ask is not None:
            answer, how = self.ask(question), "asked"
        else:
            answer, how = None, "no terminal to ask"
        log.write_text(f"{question}\n{how}: {answer}\n")
        if answer is None:
            result.state = "failed"
            result.reason = "approval needed, and there is no terminal to ask: run with APPROVE=yes"
        elif answer.strip().lower() in {"y", "yes"}:
            result.state = "passed"
            result.reason = f"approved ({how})"
        else:
            result.state = "declined"
            result.reason = "not approved: production was left as it was"

    def _note_bundle(self, began_monotonic: float) -> None:
        """The bundle `package` just wrote: the newest dist/bookdesk-*.tar.gz."""
        bundles = sorted(
            (self.root / "dist").glob("bookdesk-*.tar.gz"), key=lambda p: p.stat().st_mtime
        )
        if bundles:
            bundle = bundles[-1]
            self.run.bundle = str(bundle.relative_to(self.root))
            self.run.bundle_sha256 = hashlib.sha256(bundle.read_bytes()).hexdigest()

    # --- the whole run ------------------------------------------------------------------

    def execute(self) -> int:
        self.run.directory.mkdir(parents=True, exist_ok=True)
        latest = self.run.directory.parent / "latest"
        if latest.is_symlink() or not latest.exists():
            latest.unlink(missing_ok=True)
            latest.symlink_to(self.run.directory.name)
        self.say(f"pipeline {self.run.run_id}: {' -> '.join(self.stages)}")
        where = self.run.directory
        if where.is_relative_to(self.root):
            where = where.relative_to(self.root)
        self.say(f"  logs and report: {where}")
        self.run.results = [StageResult(name=name) for name in self.stages]
        total_began = time.monotonic()
        status = 0
        for index, name in enumerate(self.stages):
            self.say(f"  {name:<18} running")
            result = self.run_stage(name)
            self.run.results[index] = result
            mark = {"passed": "passed", "failed": "FAILED", "declined": "DECLINED"}[result.state]
            line = f"  {name:<18} {mark:<8} {fmt_seconds(result.seconds):>7}"
            if result.reason and result.state != "passed":
                line += f"  {result.reason}"
            self.say(line)
            if result.state != "passed":
                status = 1
                if result.state == "failed" and name != "approve" and not self.echo:
                    self.say(f"\n--- the last {TAIL_LINES} lines of {result.log} ---")
                    for text in tail(Path(result.log)):
                        self.say(f"  | {text}")
                if name == "post-deploy":
                    self.roll_back()
                self.say(f"\npipeline stopped at {name}: {result.reason}")
                break
        self.write_reports(time.monotonic() - total_began)
        if status == 0:
            self.say(f"\npipeline passed in {fmt_seconds(time.monotonic() - total_began)}")
        return status

    def roll_back(self) -> None:
        """Failed post-deploy checks return production to the previous release."""
        environment = self.variables.get("ENV", "production")  # as post-deploy had it
        log = self.run.directory / "rollback.log"
        command = [*self.make, "--no-print-directory", "rollback", f"ENV={environment}"]
        self.say(f"  {'rollback':<18} running  (the post-deploy checks failed)")
        began = time.monotonic()
        with log.open("w") as handle:
            handle.write(f"$ {' '.join(command)}\n")
            handle.flush()
            done = subprocess.run(
                command, cwd=self.root, stdout=handle, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, check=False,
            )  # fmt: skip
        state = "passed" if done.returncode == 0 else "FAILED"
        line = f"  {'rollback':<18} {state:<8} {fmt_seconds(time.monotonic() - began):>7}"
        if done.returncode:
            line += f"  {reason_from_log(log, done.returncode)}"
        self.say(line)
        self.run.rolled_back = done.returncode == 0

    # --- reports ------------------------------------------------------------------------

    def write_reports(self, total_seconds: float) -> None:
        junit = self.run.directory / "junit"
        junit.mkdir(exist_ok=True)
        for result in self.run.results:
            suite = ET.Element(
                "testsuite",
                name=f"pipeline.{result.name}",
                tests="1",
                failures="1" if result.state in {"failed", "declined"} else "0",
                skipped="1" if result.state == "not run" else "0",
                time=f"{result.seconds:.3f}",
                timestamp=result.started,
            )
            case = ET.SubElement(
                suite,
                "testcase",
                classname="pipeline",
                name=result.name,
                time=f"{result.seconds:.3f}",
            )
            if result.state in {"failed", "declined"}:
                failure = ET.SubElement(case, "failure", message=result.reason)
                failure.text = (
                    "\n".join(tail(Path(result.log))) if Path(result.log).exists() else ""
                )
            elif result.state == "not run":
                ET.SubElement(
                    case, "skipped", message="not run: an earlier stage stopped the pipeline"
                )
            ET.ElementTree(suite).write(
                junit / f"{result.name}.xml", encoding="utf-8", xml_declaration=True
            )
        summary = {
            "run": self.run.run_id,
            "commit": self.run.commit,
            "bundle": self.run.bundle,
            "bundle_sha256": self.run.bundle_sha256,
            "rolled_back": self.run.rolled_back,
            "seconds": round(total_seconds, 1),
            "passed": all(r.state == "passed" for r in self.run.results),
            "stages": [{**asdict(r), "seconds": round(r.seconds, 1)} for r in self.run.results],
        }
        (self.run.directory / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        lines = [
            f"# Pipeline {self.run.run_id}",
            "",
            f"Commit `{self.run.commit}`"
            + (
                f", bundle `{self.run.bundle}` (sha256 `{self.run.bundle_sha256[:16]}…`)"
                if self.run.bundle
                else ""
            )
            + f"; {fmt_seconds(total_seconds)} in all.",
            "",
            "| stage | state | duration | reason |",
            "|---|---|---|---|",
        ]
        for r in self.run.results:
            duration = fmt_seconds(r.seconds) if r.state != "not run" else ""
            reason = r.reason.replace("|", "/")
            lines.append(f"| {r.name} | {r.state} | {duration} | {reason} |")
        (self.run.directory / "summary.md").write_text("\n".join(lines) + "\n")


def choose_stages(spec: str) -> list[str]:
    if spec == "all":
        return list(ALL_STAGES)
    if spec == "pr":
        return list(PR_STAGES)
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in ALL_STAGES]
    if unknown:
        raise SystemExit(f"unknown stage(s): {', '.join(unknown)}; stages: {' '.join(ALL_STAGES)}")
    # Always in the pipeline's own order, whatever order they were named in.
    return [name for name in ALL_STAGES if name in names]


def ask_on_terminal(question: str) -> str | None:
    if not sys.stdin.isatty():
        return None
    try:
        return input(question)
    except EOFError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the pipeline's stages in order.")
    parser.add_argument(
        "--stages", default=os.environ.get("PIPELINE_STAGES") or "all",
        help="all (default), pr (build lint migrations test security), or a comma list",
    )  # fmt: skip
    parser.add_argument(
        "--approve", action="store_true", default=os.environ.get("APPROVE", "").lower() == "yes"
    )
    parser.add_argument("--make", default=os.environ.get("MAKE") or "make")
    parser.add_argument(
        "--echo",
        action="store_true",
        default=os.environ.get("PIPELINE_ECHO", "") not in {"", "0"},
        help="also print each stage's whole output (CI logs)",
    )
    parser.add_argument("--report-dir", type=Path, default=ROOT / "var" / "pipeline")
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="passed to every make"
    )
    args = parser.parse_args(argv)
    variables = dict(item.split("=", 1) for item in args.var)
    pipeline = Pipeline(
        stages=choose_stages(args.stages),
        make=args.make.split(),
        report_root=args.report_dir,
        approve=args.approve,
        ask=ask_on_terminal,
        variables=variables,
        echo=args.echo,
    )
    return pipeline.execute()


if __name__ == "__main__":
    raise SystemExit(main())
