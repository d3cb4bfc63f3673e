#!/usr/bin/env python3
"""Bookdesk's local environment: staging and production as real systemd hosts on this machine.

Each host of the `local` inventory (deploy/ansible/inventories/local/hosts.yml, the hosts
with a `bookdesk_local_octet`) becomes

  * a network namespace with one veth on a bridge made for the environment
    (BOOKDESK_ENV_NET.1/24 on the machine, BOOKDESK_ENV_NET.<octet> in the host);
  * a root file system: an overlayfs whose lower layer is one shared Debian 12 base root
    (built once with debootstrap, cached in BOOKDESK_ENV_CACHE under a hash of its inputs)
    and whose upper layer is the host's own directory under the state directory;
  * `systemd-nspawn --boot` on that root, joined to that namespace: systemd runs as the
    host's PID 1 with sshd, exactly as on a VM. systemd never runs on the machine's own root.

Ansible then reaches the hosts over SSH with a key generated in the state directory, and
provisions and deploys them with the same playbooks as real hosts.

    localenv.py up [--no-provision] [--no-deploy]    build what is missing, start, provision, deploy
    localenv.py down                                 remove everything (safe to run twice)
    localenv.py status                               the hosts and whether they run
    localenv.py exec HOST -- CMD...                  run a command inside a host (as root)
    localenv.py stop-host HOST / start-host HOST     power a host off (and off the network) / on
    localenv.py playbook PLAYBOOK [ARGS...]          ansible-playbook against the environment
    localenv.py ansible-env                          print the environment for ansible-playbook

Settings (environment variables): BOOKDESK_ENV_NET (default 10.77.0: the /24 prefix),
BOOKDESK_ENV_ID (default bk: the prefix of the bridge, namespace and link names),
BOOKDESK_ENV_DIR (default var/env in the checkout), BOOKDESK_ENV_CACHE
(default /var/cache/bookdesk-env). Two environments can run side by side on one machine
when each has its own NET, ID and DIR. Runs as root (namespaces, mounts, nspawn).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "deploy" / "ansible"
LOCAL_INVENTORY = ANSIBLE_DIR / "inventories" / "local"
PACKAGES_FILE = Path(__file__).resolve().parent / "base-packages.txt"
ANSIBLE_BIN = REPO / ".venv-ansible" / "bin"

SUITE = "bookworm"
# Bump when the way the base root is made changes (it is part of the cache key).
BASE_RECIPE = 1
BASE_MARKER = ".bookdesk-base-complete"
# Enough to boot and to run apt inside the new root; the rest comes from base-packages.txt.
DEBOOTSTRAP_INCLUDE = ["systemd", "systemd-sysv", "dbus", "ca-certificates"]
# Units the packages enable that no host needs at boot: the roles enable what a host uses.
BASE_DISABLED_UNITS = [
    "nginx.service",
    "postgresql.service",
    "redis-server.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
    "man-db.timer",
]
DEPLOY_USER = "deploy"
BOOT_TIMEOUT = 180


@dataclass(frozen=True)
class Settings:
    net: str
    env_id: str
    state: Path
    cache: Path

    @classmethod
    def from_environ(cls) -> Settings:
        net = os.environ.get("BOOKDESK_ENV_NET", "10.77.0")
        env_id = os.environ.get("BOOKDESK_ENV_ID", "bk")
        if not re.fullmatch(r"\d{1,3}\.\d{1,3}\.\d{1,3}", net):
            raise SystemExit(f"BOOKDESK_ENV_NET must be a /24 prefix like 10.77.0, not {net!r}")
        ipaddress.ip_network(f"{net}.0/24")  # each part 0..255
        if not re.fullmatch(r"[a-z][a-z0-9]{0,5}", env_id):
            raise SystemExit("BOOKDESK_ENV_ID must be 1-6 lower-case letters or digits")
        state = Path(os.environ.get("BOOKDESK_ENV_DIR") or REPO / "var" / "env").resolve()
        cache = Path(os.environ.get("BOOKDESK_ENV_CACHE") or "/var/cache/bookdesk-env")
        return cls(net=net, env_id=env_id, state=state, cache=cache)

    @property
    def bridge(self) -> str:
        return f"{self.env_id}br0"

    @property
    def gateway(self) -> str:
        return f"{self.net}.1"


@dataclass(frozen=True)
class Host:
    name: str
    octet: int
    groups: tuple[str, ...]

    def address(self, s: Settings) -> str:
        return f"{s.net}.{self.octet}"

    def netns(self, s: Settings) -> str:
        return f"{s.env_id}-{self.name}"

    def veth(self, s: Settings) -> str:
        return f"{s.env_id}v{self.octet}"

    def dir(self, s: Settings) -> Path:
        return s.state / "hosts" / self.name

    def root(self, s: Settings) -> Path:
        return self.dir(s) / "root"


# --- small helpers --------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[env] {message}", flush=True)


def run(cmd, *, check=True, capture=False, timeout=None, env=None, input=None):
    result = subprocess.run(
        [str(c) for c in cmd],
        check=False,
        text=True,
        capture_output=capture,
        timeout=timeout,
        env=env,
        input=input,
    )
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip() if capture else ""
        raise SystemExit(
            f"command failed ({result.returncode}): {shlex.join(map(str, cmd))}\n{detail}"
        )
    return result


def quiet(cmd) -> bool:
    """Run a command whose failure is expected at times (clean-up); True when it worked."""
    return subprocess.run([str(c) for c in cmd], capture_output=True, check=False).returncode == 0


@contextlib.contextmanager
def file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_hosts() -> list[Host]:
    """The hosts of the local inventory that the environment makes (those with an octet)."""
    import yaml  # from .venv-ansible; `down` works without it

    data = yaml.safe_load((LOCAL_INVENTORY / "hosts.yml").read_text())
    found: dict[str, dict] = {}

    def walk(group_name: str, group: dict) -> None:
        for name, hostvars in (group.get("hosts") or {}).items():
            entry = found.setdefault(name, {"octet": None, "groups": []})
            entry["groups"].append(group_name)
            if hostvars and "bookdesk_local_octet" in hostvars:
                entry["octet"] = int(hostvars["bookdesk_local_octet"])
        for child_name, child in (group.get("children") or {}).items():
            walk(child_name, child or {})

    walk("all", data["all"])
    hosts = [
        Host(name, entry["octet"], tuple(entry["groups"]))
        for name, entry in found.items()
        if entry["octet"] is not None
    ]
    octets = [h.octet for h in hosts]
    if len(set(octets)) != len(octets) or any(not 2 <= o <= 254 for o in octets):
        raise SystemExit("local inventory: each host needs its own bookdesk_local_octet in 2..254")
    return sorted(hosts, key=lambda h: h.octet)


def host_by_name(name: str) -> Host:
    for host in read_hosts():
        if host.name == name:
            return host
    raise SystemExit(f"no host {name!r} in the local inventory")


# --- the base root --------------------------------------------------------------------------


def base_packages() -> list[str]:
    packages = []
    for line in PACKAGES_FILE.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            packages.append(line)
    return packages


def base_key() -> str:
    inputs = {
        "recipe": BASE_RECIPE,
        "suite": SUITE,
        "include": DEBOOTSTRAP_INCLUDE,
        "packages": base_packages(),
        "disabled": BASE_DISABLED_UNITS,
        "arch": os.uname().machine,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def apt_sources(paths: list[Path] | None = None) -> list[tuple[str, str, list[str]]]:
    """(uri, suite, components) of the machine's Debian sources for this suite.

    The mirror is whatever this machine already uses; nothing in the project names one.
    """
    entries: list[tuple[str, str, list[str]]] = []
    if paths is None:
        listed = sorted(Path("/etc/apt/sources.list.d").glob("*"))
        paths = [Path("/etc/apt/sources.list"), *listed]
    for path in paths:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, str] = {}
                key = None
                for raw in stanza.splitlines():
                    if raw.startswith("#") or not raw.strip():
                        continue
                    if raw[0] in " \t" and key:
                        fields[key] += " " + raw.strip()
                        continue
                    key, _, value = raw.partition(":")
                    key = key.strip().lower()
                    fields[key] = value.strip()
                if "deb" not in fields.get("types", "").split():
                    continue
                if fields.get("enabled", "yes").lower() == "no":
                    continue
                for uri in fields.get("uris", "").split():
                    for suite in fields.get("suites", "").split():
                        entries.append((uri, suite, fields.get("components", "").split()))
        elif path.name == "sources.list" or path.suffix == ".list":
            for raw in text.splitlines():
                raw = raw.split("#", 1)[0].strip()
                parts = re.sub(r"\[[^\]]*\]", "", raw).split()
                if len(parts) >= 3 and parts[0] == "deb":
                    entries.append((parts[1], parts[2], parts[3:]))
    return [e for e in entries if e[1] == SUITE or e[1].startswith(SUITE + "-")]


def mirror(entries: list[tuple[str, str, list[str]]] | None = None) -> str:
    for uri, suite, components in apt_sources() if entries is None else entries:
        if suite == SUITE and "main" in components:
            return uri
    raise SystemExit(
        f"No Debian {SUITE} source with 'main' in this machine's apt sources; "
        "the base root is built from the machine's own mirror."
    )


def nspawn_run(root: Path, *command: str, network: bool = True) -> None:
    """Run one command inside a root that is not booted (nspawn as a better chroot)."""
    cmd = [
        "systemd-nspawn",
        "--quiet",
        "--register=no",
        "--keep-unit",
        f"--directory={root}",
        "--setenv=LANG=C.UTF-8",
        "--setenv=DEBIAN_FRONTEND=noninteractive",
    ]
    if not network:
        cmd.append("--private-network")
    run([*cmd, "--", *command])


BASE_FINISH = """\
set -eu
# Like Terraform's user data on a real host: the deploy user with sudo, for Ansible.
id -u {user} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {user}
echo '{user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-{user}
chmod 0440 /etc/sudoers.d/90-{user}
install -d -m 0700 -o {user} -g {user} /home/{user}/.ssh
systemctl disable {disabled} 2>/dev/null || true
systemctl enable ssh.service
# Each host gets its own SSH host keys and machine id when it is made.
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
apt-get clean
"""


def build_base(s: Settings) -> Path:
    key = base_key()
    final = s.cache / f"base-{key}"
    if (final / BASE_MARKER).exists():
        return final
    with file_lock(s.cache / ".build.lock"):
        if (final / BASE_MARKER).exists():
            return final
        for tool in ("debootstrap", "systemd-nspawn"):
            if not shutil.which(tool):
                raise SystemExit(
                    f"{tool} is missing (apt-get install debootstrap systemd-container)"
                )
        started = time.monotonic()
        work = s.cache / f"base-{key}.partial"
        if work.exists():
            shutil.rmtree(work)
        source = mirror()
        say(f"building the base root {final.name} from {source} (a few minutes, once)")
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(DEBOOTSTRAP_INCLUDE)}",
                SUITE,
                work,
                source,
            ]
        )
        lines = [
            f"deb {uri} {suite} {' '.join(components)}" for uri, suite, components in apt_sources()
        ]
        (work / "etc/apt/sources.list").write_text(
            "# The machine's own Debian sources, copied when this base root was built.\n"
            + "\n".join(dict.fromkeys(lines))
            + "\n"
        )
        # No service starts inside the build (there is no init running anyway).
        policy = work / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        nspawn_run(work, "apt-get", "update", "-q")
        nspawn_run(
            work,
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            *base_packages(),
        )
        finish = BASE_FINISH.format(user=DEPLOY_USER, disabled=" ".join(BASE_DISABLED_UNITS))
        nspawn_run(work, "sh", "-c", finish, network=False)
        policy.unlink()
        (work / BASE_MARKER).write_text(json.dumps({"key": key, "packages": base_packages()}))
        work.rename(final)
        say(f"base root ready in {time.monotonic() - started:.0f} s")
    return final


# --- keys, certificates and secrets ---------------------------------------------------------


def ensure_ssh_key(s: Settings) -> Path:
    key = s.state / "id_ed25519"
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bookdesk-localenv", "-f", key])
    return key


def openssl(*args: str) -> None:
    run(["openssl", *args], capture=True)


def ensure_ca(s: Settings) -> Path:
    tls = s.state / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    ca_cert = tls / "ca.crt"
    if not ca_cert.exists():
        openssl(
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            str(tls / "ca.key"),
        )
        openssl(
            "req",
            "-x509",
            "-new",
            "-key",
            str(tls / "ca.key"),
            "-sha256",
            "-days",
            "825",
            "-subj",
            "/CN=Bookdesk local environment CA",
            "-out",
            str(ca_cert),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        )
    return ca_cert


def env_of(host: Host) -> str | None:
    """staging or production, from the host's environment group (None for shared hosts)."""
    for group in host.groups:
        if group in ("bookdesk_staging", "bookdesk_production"):
            return group.removeprefix("bookdesk_")
    return None


def site_names(s: Settings, host: Host, hosts: list[Host]) -> list[str]:
    """The subject names of a host's certificate: its own address, and for the app hosts and
    balancer of an environment its site name <env>.bookdesk.test (the balancer checks the
    app hosts against that name: nginx matches names, never addresses) and, for app hosts
    behind a balancer, the balancer's address, which is the site's."""
    names = [f"IP:{host.address(s)}"]
    env = env_of(host)
    if env and ({"bookdesk_app", "bookdesk_balancer"} & set(host.groups)):
        names.append(f"DNS:{env}.bookdesk.test")
    if "bookdesk_app" in host.groups:
        names += [
            f"IP:{other.address(s)}"
            for other in hosts
            if "bookdesk_balancer" in other.groups and env_of(other) == env
        ]
    return names


def ensure_certificate(s: Settings, host: Host, hosts: list[Host]) -> None:
    tls = s.state / "tls"
    key, cert = tls / f"{host.name}.key", tls / f"{host.name}.crt"
    if cert.exists():
        return
    sans = ",".join(site_names(s, host, hosts))
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
    csr = tls / f"{host.name}.csr"
    openssl("req", "-new", "-key", str(key), "-subj", f"/CN={host.address(s)}", "-out", str(csr))
    with tempfile.NamedTemporaryFile("w", suffix=".ext") as ext:
        ext.write(
            f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        )
        ext.flush()
        openssl(
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(tls / "ca.crt"),
            "-CAkey",
            str(tls / "ca.key"),
            "-CAcreateserial",
            "-days",
            "825",
            "-sha256",
            "-extfile",
            ext.name,
            "-out",
            str(cert),
        )
    csr.unlink()


def ensure_secrets(s: Settings) -> None:
    """The local environment's secrets: an Ansible Vault file and its password, both made
    here, never committed (var/ is ignored)."""
    password = s.state / "vault-password"
    vault = s.state / "secrets.yml"
    if vault.exists() and password.exists():
        return
    password.write_text(secrets.token_urlsafe(32) + "\n")
    password.chmod(0o600)
    values = {}
    for env in ("staging", "production"):
        values[f"vault_bookdesk_{env}_secret_key"] = secrets.token_urlsafe(50)
        values[f"vault_bookdesk_{env}_database_password"] = secrets.token_hex(16)
    values["vault_bookdesk_redis_password"] = secrets.token_hex(16)
    with tempfile.NamedTemporaryFile("w", dir=s.state, delete=False, suffix=".yml") as plain:
        plain.write(json.dumps(values, indent=2) + "\n")  # JSON is YAML
    os.chmod(plain.name, 0o600)
    run(
        [
            ANSIBLE_BIN / "ansible-vault",
            "encrypt",
            "--vault-password-file",
            password,
            "--output",
            vault,
            plain.name,
        ],
        capture=True,
    )
    os.unlink(plain.name)


# --- network --------------------------------------------------------------------------------


def link_exists(name: str) -> bool:
    return quiet(["ip", "link", "show", "dev", name])


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def ensure_bridge(s: Settings) -> None:
    owner_file = Path("/run/bookdesk-env") / f"{s.env_id}.owner"
    if link_exists(s.bridge):
        owner = owner_file.read_text().strip() if owner_file.exists() else "unknown"
        if owner != str(s.state):
            raise SystemExit(
                f"The bridge {s.bridge} belongs to another local environment ({owner}). "
                "Set BOOKDESK_ENV_ID, BOOKDESK_ENV_NET and BOOKDESK_ENV_DIR to run a second one."
            )
        return
    for line in run(["ip", "-o", "-4", "addr", "show"], capture=True).stdout.splitlines():
        if f" {s.net}." in line:
            raise SystemExit(f"{s.net}.0/24 is already in use on this machine: {line.split()[1]}")
    run(["ip", "link", "add", s.bridge, "type", "bridge"])
    run(["ip", "addr", "add", f"{s.gateway}/24", "dev", s.bridge])
    run(["ip", "link", "set", s.bridge, "up"])
    owner_file.parent.mkdir(parents=True, exist_ok=True)
    owner_file.write_text(str(s.state) + "\n")


def ensure_host_network(s: Settings, host: Host) -> None:
    ns, veth = host.netns(s), host.veth(s)
    if not netns_exists(ns):
        run(["ip", "netns", "add", ns])
    if not link_exists(veth):
        inner = f"{veth}c"
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", inner])
        run(["ip", "link", "set", inner, "netns", ns])
        run(["ip", "-n", ns, "link", "set", inner, "name", "eth0"])
        run(["ip", "-n", ns, "addr", "add", f"{host.address(s)}/24", "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", ns, "route", "add", "default", "via", s.gateway])
        run(["ip", "link", "set", veth, "master", s.bridge])
    run(["ip", "link", "set", veth, "up"])


# --- hosts ----------------------------------------------------------------------------------


def is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1] == target for line in mounts)


def mount_root(s: Settings, host: Host, base: Path) -> None:
    hdir = host.dir(s)
    for sub in ("upper", "work", "root"):
        (hdir / sub).mkdir(parents=True, exist_ok=True)
    stamp = hdir / "base"
    if stamp.exists() and stamp.read_text().strip() != base.name:
        raise SystemExit(
            f"{host.name} was made on {stamp.read_text().strip()}, the base is now {base.name}: "
            "run `make env-down` first."
        )
    stamp.write_text(base.name + "\n")
    if not is_mounted(host.root(s)):
        options = f"lowerdir={base},upperdir={hdir / 'upper'},workdir={hdir / 'work'}"
        run(["mount", "-t", "overlay", "overlay", "-o", options, host.root(s)])


def prepare_root(s: Settings, host: Host, hosts: list[Host], pubkey: str) -> None:
    """What a host's own cloud-init would do: name, addresses, SSH keys, host facts."""
    root = host.root(s)
    marker = root / "etc/bookdesk/bootstrap-complete"
    if marker.exists():
        return
    (root / "etc/hostname").write_text(host.name + "\n")
    lines = ["127.0.0.1\tlocalhost", f"127.0.1.1\t{host.name}", "::1\tlocalhost ip6-localhost"]
    lines += [f"{h.address(s)}\t{h.name}" for h in hosts]
    (root / "etc/hosts").write_text("\n".join(lines) + "\n")
    # No name server on the bridge: resolution fails at once instead of timing out.
    resolv = root / "etc/resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    resolv.write_text("# local environment: names come from /etc/hosts only\noptions timeout:1\n")
    run(["ssh-keygen", "-q", "-A", "-f", root])
    ssh_dir = root / "home" / DEPLOY_USER / ".ssh"
    stat = ssh_dir.stat()
    keys = ssh_dir / "authorized_keys"
    keys.write_text(pubkey)
    os.chown(keys, stat.st_uid, stat.st_gid)
    keys.chmod(0o600)
    facts = {
        "environment": env_of(host) or "shared",
        "ansible_groups": list(host.groups),
        "address": host.address(s),
        "local_environment": True,
    }
    marker.parent.mkdir(parents=True, exist_ok=True)
    (root / "etc/bookdesk/host.json").write_text(json.dumps(facts, indent=2) + "\n")
    marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")


def nspawn_pid(s: Settings, host: Host) -> int | None:
    """The systemd-nspawn process running this host, found from /proc (no state file needed)."""
    wanted = f"--directory={host.root(s)}"
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"systemd-nspawn") and wanted.encode() in args:
            return int(proc.name)
    return None


def leader_pid(nspawn: int) -> int | None:
    """The host's PID 1 (its systemd), seen from the machine: nspawn's descendant whose
    innermost pid is 1."""
    queue = [nspawn]
    while queue:
        pid = queue.pop(0)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        nspid = next((ln.split()[1:] for ln in status.splitlines() if ln.startswith("NSpid:")), [])
        if pid != nspawn and len(nspid) > 1 and nspid[-1] == "1":
            return pid
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                queue.extend(int(c) for c in task.read_text().split())
    return None


STARTED: dict[str, subprocess.Popen] = {}


def start_host(s: Settings, host: Host) -> None:
    if nspawn_pid(s, host):
        return
    log = open(host.dir(s) / "console.log", "wb")  # noqa: SIM115 - handed to the child
    STARTED[host.name] = subprocess.Popen(
        [
            "systemd-nspawn",
            "--quiet",
            "--boot",
            "--register=no",
            "--keep-unit",
            f"--directory={host.root(s)}",
            f"--machine={host.name}",
            f"--network-namespace-path=/run/netns/{host.netns(s)}",
            "--console=passive",
            # nft for the host firewall; it only reaches the host's own network namespace.
            "--capability=CAP_NET_ADMIN",
            "--resolv-conf=off",
            "--link-journal=no",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()


def host_exec(s: Settings, host: Host, command: list[str], **kwargs):
    pid = nspawn_pid(s, host)
    leader = leader_pid(pid) if pid else None
    if not leader:
        raise SystemExit(f"{host.name} is not running")
    return run(["nsenter", "-t", leader, "-a", *command], **kwargs)


def wait_booted(s: Settings, host: Host) -> str:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        child = STARTED.get(host.name)
        if child is not None and child.poll() is not None:
            log = (host.dir(s) / "console.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"{host.name}: systemd-nspawn exited during boot:\n{log}")
        pid = nspawn_pid(s, host)
        leader = leader_pid(pid) if pid else None
        if leader:
            result = run(
                ["nsenter", "-t", leader, "-a", "systemctl", "is-system-running", "--wait"],
                check=False,
                capture=True,
                timeout=max(1, deadline - time.monotonic()),
            )
            state = result.stdout.strip()
            if state in ("running", "degraded"):
                if state == "degraded":
                    failed = host_exec(
                        s, host, ["systemctl", "--failed", "--no-legend"], capture=True, check=False
                    ).stdout.strip()
                    say(f"{host.name}: booted degraded; failed units:\n{failed}")
                return state
        time.sleep(0.5)
    raise SystemExit(f"{host.name} did not finish booting within {BOOT_TIMEOUT} s")


def ssh_options(s: Settings) -> list[str]:
    return [
        "-i",
        str(s.state / "id_ed25519"),
        "-o",
        f"UserKnownHostsFile={s.state / 'known_hosts'}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=5",
    ]


def record_host_keys(s: Settings, hosts: list[Host]) -> None:
    lines = []
    for host in hosts:
        for pub in sorted((host.root(s) / "etc/ssh").glob("ssh_host_*_key.pub")):
            keytype, key = pub.read_text().split()[:2]
            lines.append(f"{host.address(s)},{host.name} {keytype} {key}")
    (s.state / "known_hosts").write_text("\n".join(lines) + "\n")


def wait_ssh(s: Settings, host: Host) -> None:
    deadline = time.monotonic() + 60
    while True:
        result = run(
            ["ssh", *ssh_options(s), f"{DEPLOY_USER}@{host.address(s)}", "sudo", "-n", "true"],
            check=False,
            capture=True,
        )
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{host.name}: SSH does not answer: {result.stderr.strip()}")
        time.sleep(1)


def stop_hosts(s: Settings, hosts: list[Host], timeout: float = 60) -> None:
    """Orderly power-off of several hosts at once; whatever is left after timeout is killed."""
    running = {}
    for host in hosts:
        pid = nspawn_pid(s, host)
        if pid:
            running[host.name] = (pid, leader_pid(pid))
            # SIGTERM makes nspawn ask the host's systemd for an orderly power-off.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(
        Path(f"/proc/{pid}").exists() for pid, _ in running.values()
    ):
        time.sleep(0.3)
    for name, (pid, leader) in running.items():
        if not Path(f"/proc/{pid}").exists():
            continue
        say(f"{name}: no orderly power-off within {timeout:.0f} s; killing it")
        for victim in (leader, pid):
            if victim:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGKILL)
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)


# --- ansible --------------------------------------------------------------------------------


def ansible_environ(s: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
            "BOOKDESK_ENV_NET": s.net,
            "BOOKDESK_ENV_DIR": str(s.state),
            "ANSIBLE_PRIVATE_KEY_FILE": str(s.state / "id_ed25519"),
            "ANSIBLE_SSH_ARGS": (
                f"-o UserKnownHostsFile={s.state / 'known_hosts'} -o StrictHostKeyChecking=yes "
                "-o ControlMaster=auto -o ControlPersist=120s"
            ),
            "ANSIBLE_VAULT_PASSWORD_FILE": str(s.state / "vault-password"),
        }
    )
    return env


def ansible_extra_args(s: Settings) -> list[str]:
    return ["-i", str(LOCAL_INVENTORY), "-e", f"@{s.state / 'secrets.yml'}"]


def provision(s: Settings) -> None:
    say("provisioning every host (deploy/ansible/site.yml)")
    started = time.monotonic()
    result = subprocess.run(
        [ANSIBLE_BIN / "ansible-playbook", *ansible_extra_args(s), ANSIBLE_DIR / "site.yml"],
        env=ansible_environ(s),
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit("provisioning failed (the output above says where)")
    say(f"provisioned in {time.monotonic() - started:.0f} s")


def urls(s: Settings, hosts: list[Host]) -> dict[str, str]:
    found = {}
    for env in ("staging", "production"):
        members = [h for h in hosts if f"bookdesk_{env}" in h.groups]
        front = [h for h in members if "bookdesk_balancer" in h.groups] or [
            h for h in members if "bookdesk_app" in h.groups
        ]
        if front:
            found[env] = f"https://{front[0].address(s)}/"
    return found


# --- commands -------------------------------------------------------------------------------


def require_root() -> None:
    if os.geteuid() != 0:
        raise SystemExit("The local environment needs root (network namespaces, mounts, nspawn).")


def cmd_up(s: Settings, args) -> None:
    require_root()
    if not (ANSIBLE_BIN / "ansible-playbook").exists():
        raise SystemExit("Ansible is missing: make ansible-venv")
    started = time.monotonic()
    hosts = read_hosts()
    s.state.mkdir(parents=True, exist_ok=True)
    (s.state / "hosts").mkdir(exist_ok=True)
    base = build_base(s)
    key = ensure_ssh_key(s)
    ensure_ca(s)
    for host in hosts:
        ensure_certificate(s, host, hosts)
    ensure_secrets(s)
    ensure_bridge(s)
    pubkey = key.with_suffix(".pub").read_text()
    for host in hosts:
        ensure_host_network(s, host)
        mount_root(s, host, base)
        prepare_root(s, host, hosts, pubkey)
        start_host(s, host)
    record_host_keys(s, hosts)
    for host in hosts:
        wait_booted(s, host)
        wait_ssh(s, host)
    say(
        f"{len(hosts)} hosts up in {time.monotonic() - started:.0f} s: "
        + ", ".join(f"{h.name} {h.address(s)}" for h in hosts)
    )
    if args.provision:
        provision(s)
    found = urls(s, hosts)
    (s.state / "urls.json").write_text(json.dumps(found, indent=2) + "\n")
    if args.deploy and args.provision:
        if not list((REPO / "dist").glob("bookdesk-*.tar.gz")):
            say("no release bundle in dist/: make package")
            if subprocess.run(["make", "-C", str(REPO), "package"], check=False).returncode:
                raise SystemExit("make package failed")
        for env in found:
            say(f"deploying to {env}")
            result = subprocess.run(["make", "-C", str(REPO), "deploy", f"ENV={env}"], check=False)
            if result.returncode != 0:
                raise SystemExit(f"the first deploy to {env} failed")
    for env, url in found.items():
        print(f"{env:<11} {url}   (CA: {s.state / 'tls' / 'ca.crt'})")
    say(f"ready in {time.monotonic() - started:.0f} s; URLs in {s.state / 'urls.json'}")


def made_hosts(s: Settings) -> list[Host]:
    """The hosts this environment made, from its state directory and its links alone (no
    inventory needed), so that `down` cleans up whatever `up` left, however far it got."""
    hosts = []
    for hdir in sorted((s.state / "hosts").glob("*")) if (s.state / "hosts").is_dir() else []:
        hosts.append(Host(hdir.name, 0, ()))
    return hosts


def cmd_down(s: Settings, args) -> None:
    require_root()
    stop_hosts(s, made_hosts(s), timeout=args.timeout)
    # Anything still mounted below the state directory (the roots), deepest first.
    with open("/proc/self/mounts") as mounts:
        targets = [line.split()[1] for line in mounts]
    prefix = str(s.state) + "/"
    for target in sorted((t for t in targets if t.startswith(prefix)), key=len, reverse=True):
        if not quiet(["umount", target]):
            quiet(["umount", "--lazy", target])
    netns_dir = Path("/run/netns")
    for ns in sorted(netns_dir.glob(f"{s.env_id}-*")) if netns_dir.is_dir() else []:
        quiet(["ip", "netns", "delete", ns.name])
    links = run(["ip", "-o", "link", "show"], capture=True).stdout
    for name in re.findall(rf"^\d+: ({re.escape(s.env_id)}v\d+)[@:]", links, re.MULTILINE):
        quiet(["ip", "link", "delete", name])
    owner_file = Path("/run/bookdesk-env") / f"{s.env_id}.owner"
    owner = owner_file.read_text().strip() if owner_file.exists() else str(s.state)
    if link_exists(s.bridge) and owner == str(s.state):
        quiet(["ip", "link", "delete", s.bridge])
    if owner == str(s.state):
        owner_file.unlink(missing_ok=True)
    if s.state.exists():
        with open("/proc/self/mounts") as mounts:
            if any(line.split()[1].startswith(prefix) for line in mounts):
                raise SystemExit(f"something is still mounted under {s.state}; not removing it")
        shutil.rmtree(s.state)
    say("local environment removed")


def cmd_status(s: Settings, args) -> None:
    for host in read_hosts():
        pid = nspawn_pid(s, host)
        state = "stopped"
        if pid:
            result = host_exec(
                s, host, ["systemctl", "is-system-running"], capture=True, check=False
            )
            state = result.stdout.strip() or "starting"
        print(f"{host.name:<14} {host.address(s):<14} {state:<10} {' '.join(host.groups)}")


def cmd_exec(s: Settings, args) -> None:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    result = host_exec(s, host_by_name(args.host), command, check=False)
    sys.exit(result.returncode)


def cmd_stop_host(s: Settings, args) -> None:
    """Power a host off and take it off the network, as a host that died would be."""
    require_root()
    host = host_by_name(args.host)
    stop_hosts(s, [host])
    quiet(["ip", "link", "set", host.veth(s), "down"])
    say(f"{host.name} stopped")


def cmd_start_host(s: Settings, args) -> None:
    require_root()
    host = host_by_name(args.host)
    run(["ip", "link", "set", host.veth(s), "up"])
    start_host(s, host)
    wait_booted(s, host)
    wait_ssh(s, host)
    say(f"{host.name} running")


def cmd_playbook(s: Settings, args) -> None:
    """ansible-playbook against the local environment: its inventory, key, known hosts and
    vault, then whatever arguments follow (the playbook first)."""
    extra = args.args[1:] if args.args[:1] == ["--"] else args.args
    playbook = extra[0] if extra else "site.yml"
    path = Path(playbook) if Path(playbook).exists() else ANSIBLE_DIR / playbook
    command = [str(ANSIBLE_BIN / "ansible-playbook"), *ansible_extra_args(s), str(path), *extra[1:]]
    os.execve(command[0], command, ansible_environ(s))  # noqa: S606 - no shell, on purpose


def cmd_ansible_env(s: Settings, args) -> None:
    env = ansible_environ(s)
    for name in (
        "ANSIBLE_CONFIG",
        "BOOKDESK_ENV_NET",
        "BOOKDESK_ENV_DIR",
        "ANSIBLE_PRIVATE_KEY_FILE",
        "ANSIBLE_SSH_ARGS",
        "ANSIBLE_VAULT_PASSWORD_FILE",
    ):
        print(f"export {name}={shlex.quote(env[name])}")
    print(f"export BOOKDESK_ANSIBLE_ARGS={shlex.quote(shlex.join(ansible_extra_args(s)))}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up")
    up.add_argument("--no-provision", dest="provision", action="store_false")
    up.add_argument("--no-deploy", dest="deploy", action="store_false")
    down = sub.add_parser("down")
    down.add_argument("--timeout", type=float, default=60)
    sub.add_parser("status")
    ex = sub.add_parser("exec")
    ex.add_argument("host")
    ex.add_argument("command", nargs=argparse.REMAINDER)
    for name in ("stop-host", "start-host"):
        sub.add_parser(name).add_argument("host")
    sub.add_parser("ansible-env")
    sub.add_parser("playbook").add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    s = Settings.from_environ()
    handlers = {
        "up": cmd_up,
        "down": cmd_down,
        "status": cmd_status,
        "exec": cmd_exec,
        "stop-host": cmd_stop_host,
        "start-host": cmd_start_host,
        "ansible-env": cmd_ansible_env,
        "playbook": cmd_playbook,
    }
    handlers[args.cmd](s, args)


if __name__ == "__main__":
    main()
