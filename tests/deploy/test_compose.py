"""compose.yaml and the Dockerfile, checked without a container runtime (none exists here).

The Compose specification's JSON schema is not shipped by any installed package, so these tests check the
invariants a broken deployment would violate: the file's structure, that every reference resolves (services,
volumes, files, settings), that the replicas share their stores, and the health and port wiring.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer
import yaml
from pydantic import BaseModel

from engine import Settings
from engine.cli import app as marquee_app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"

# Top-level and service keys of the Compose specification (compose-spec.json, "properties"), restricted to
# what a deployment like this one may use; an unknown key is a typo Compose would reject.
TOP_LEVEL = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs"}
SERVICE_KEYS = {
    "build", "command", "configs", "container_name", "depends_on", "deploy", "entrypoint", "env_file",
    "environment", "expose", "healthcheck", "image", "labels", "logging", "networks", "ports", "profiles",
    "pull_policy", "restart", "secrets", "stop_grace_period", "stop_signal", "ulimits", "user", "volumes",
    "working_dir",
}  # fmt: skip
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
RESTART = {"no", "always", "on-failure", "unless-stopped"}
STORE_VARIABLES = ("QDRANT_URL", "MARQUEE_DATABASE_URL", "MARQUEE_REDIS_URL")
_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable substitution: ${VAR}, ${VAR:-default}, $VAR; `$$` is a literal `$`."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(3)
        return env.get(name) or (match.group(2) or "")

    return _VARIABLE.sub(one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # The defaults, as `docker compose up` on a machine with none of these variables set.
    return interpolate(yaml.safe_load(COMPOSE.read_text()), {})


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command", [])
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def option(cmd: list[str], name: str) -> str:
    assert name in cmd, f"{cmd} lacks {name}"
    return cmd[cmd.index(name) + 1]


def replicas(service: dict[str, Any]) -> int:
    return int(service.get("deploy", {}).get("replicas", 1))


def health_test(service: dict[str, Any]) -> str:
    check = service.get("healthcheck", {})
    return "" if check.get("disable") else " ".join(check.get("test", []))


def marquee_services(services: dict[str, dict[str, Any]], subcommand: str) -> list[str]:
    return [name for name, s in services.items() if command(s)[:2] == ["marquee", subcommand]]


def test_structure_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert {k for k in compose if not k.startswith("x-")} <= TOP_LEVEL
    for name, service in compose["services"].items():
        assert re.fullmatch(r"[a-zA-Z0-9._-]+", name)
        assert set(service) <= SERVICE_KEYS, f"{name}: {set(service) - SERVICE_KEYS}"
        assert "image" in service or "build" in service, f"{name} has neither image nor build"
        assert set(service.get("healthcheck", {})) <= HEALTHCHECK_KEYS, name
        assert str(service.get("restart", "no")) in RESTART, name
        assert replicas(service) >= 1, name


def test_every_reference_resolves(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services and target != name, f"{name} depends on unknown {target!r}"
            assert spec["condition"] in CONDITIONS, f"{name} -> {target}"
            if spec["condition"] == "service_healthy":
                assert health_test(services[target]), f"{name} waits on {target}, which has no healthcheck"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared_volumes, f"{name} mounts undeclared volume {source!r}"
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            assert (ROOT / context / "Dockerfile").is_file(), name


def test_the_topology_is_all_there(services: dict[str, dict[str, Any]]) -> None:
    images = " ".join(str(s.get("image", "")) for s in services.values())
    for store in ("qdrant/qdrant", "postgres", "redis", "nginx"):
        assert store in images
    assert len(marquee_services(services, "serve")) == 1
    assert replicas(services[marquee_services(services, "serve")[0]]) >= 2
    assert marquee_services(services, "ui")
    (build,) = [n for n, s in services.items() if "marquee build" in " ".join(command(s))]
    assert str(services[build].get("restart", "no")) == "no", "the build job runs once"


def test_replicas_and_the_build_job_share_the_same_stores(services: dict[str, dict[str, Any]]) -> None:
    api = services[marquee_services(services, "serve")[0]]
    (build,) = [s for s in services.values() if "marquee build" in " ".join(command(s))]
    api_env, build_env = environment(api), environment(build)
    for variable in STORE_VARIABLES:
        url = urlsplit(api_env[variable])
        assert url.hostname in services, f"{variable} points at {url.hostname}, not a service"
        needed = {"service_healthy", "service_completed_successfully"}
        assert api["depends_on"][url.hostname]["condition"] in needed, f"the API does not wait for {variable}"
    # The vectors the build job uploads are the ones every replica reads.
    assert build_env["QDRANT_URL"] == api_env["QDRANT_URL"]
    assert (
        api["depends_on"][next(n for n, s in services.items() if s is build)]["condition"]
        == "service_completed_successfully"
    )


def _setting_exists(model: type[BaseModel], path: list[str]) -> bool:
    field = model.model_fields.get(path[0])
    if field is None:
        return False
    if len(path) == 1:
        return True
    inner = field.annotation
    return isinstance(inner, type) and issubclass(inner, BaseModel) and _setting_exists(inner, path[1:])


def test_every_marquee_variable_is_a_real_setting(services: dict[str, dict[str, Any]]) -> None:
    aliases = {
        alias
        for field in Settings.model_fields.values()
        for alias in getattr(field.validation_alias, "choices", ())
    }
    for name, service in services.items():
        for variable in environment(service):
            if variable in aliases:
                continue
            if variable.startswith("MARQUEE_UI__"):
                assert command(service)[:2] == ["marquee", "ui"], f"{name} sets {variable}"
                continue
            if variable.startswith("MARQUEE_"):
                path = variable.removeprefix("MARQUEE_").lower().split("__")
                assert _setting_exists(Settings, path), f"{name}: {variable} is read by no setting"


def test_health_checks_use_livez_and_readyz(services: dict[str, dict[str, Any]]) -> None:
    api = services[marquee_services(services, "serve")[0]]
    port = option(command(api), "--port")
    assert f"127.0.0.1:{port}/readyz" in health_test(api)
    assert "start_period" in api["healthcheck"], "the engine loads for minutes; failures then must not count"
    proxy = next(s for s in services.values() if "nginx" in str(s.get("image")))
    assert "/livez" in health_test(proxy)
    (ui,) = [services[n] for n in marquee_services(services, "ui")]
    assert f"127.0.0.1:{option(command(ui), '--port')}/_stcore/health" in health_test(ui)
    assert any(line.startswith("HEALTHCHECK") and "/livez" in line for line in _instructions())


def test_published_ports_do_not_collide(services: dict[str, dict[str, Any]]) -> None:
    published: dict[str, str] = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            host = str(port).rsplit(":", 1)[0]
            assert host not in published, f"{name} and {published.get(host)} both publish {host}"
            published[host] = name
            # A fixed host port on a replicated service would collide between its own replicas.
            assert replicas(service) == 1, f"{name} has {replicas(service)} replicas and publishes {host}"
    api = marquee_services(services, "serve")[0]
    assert api not in published.values(), "viewers reach the replicas through the proxy only"


def test_the_proxy_fronts_the_api_and_the_ui_uses_the_proxy(services: dict[str, dict[str, Any]]) -> None:
    api_name = marquee_services(services, "serve")[0]
    api_port = option(command(services[api_name]), "--port")
    proxy_name, proxy = next((n, s) for n, s in services.items() if "nginx" in str(s.get("image")))
    (mount,) = [v for v in proxy["volumes"] if v.startswith("./")]
    config = (ROOT / mount.split(":")[0]).read_text()
    upstreams = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", config, re.MULTILINE)
    assert upstreams == [(api_name, api_port)]
    assert "proxy_pass http://" in config
    assert proxy["depends_on"][api_name]["condition"] == "service_healthy"
    (ui,) = [services[n] for n in marquee_services(services, "ui")]
    assert urlsplit(environment(ui)["MARQUEE_UI__API_URL"]).hostname == proxy_name


def test_variables_can_be_overridden() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    scaled = interpolate(raw, {"MARQUEE_API_REPLICAS": "5", "MARQUEE_PORT": "9000"})["services"]
    assert replicas(scaled[marquee_services(scaled, "serve")[0]]) == 5
    assert any(str(p).startswith("9000:") for s in scaled.values() for p in s.get("ports", []))


def marquee_command_lines(services: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Every `marquee ...` invocation in the file, also those inside `sh -c` scripts joined with &&."""
    lines = []
    for service in services.values():
        cmd = command(service)
        scripts = [cmd[2]] if cmd[:2] == ["sh", "-c"] else [shlex.join(cmd)]
        for script in scripts:
            for part in script.split("&&"):
                words = [w.replace("$MARQUEE_API__DATASET", "ml-latest-small") for w in shlex.split(part)]
                if words and words[0] == "marquee":
                    lines.append(words[1:])
    return lines


def test_every_marquee_command_parses_against_the_real_cli(services: dict[str, dict[str, Any]]) -> None:
    lines = marquee_command_lines(services)
    assert {line[0] for line in lines} >= {"serve", "ui", "build", "data"}
    root = typer.main.get_command(marquee_app)
    for line in lines:
        group, args = root, list(line)
        while hasattr(group, "get_command"):  # a group (typer ships its own copy of click's classes)
            group = group.get_command(typer.Context(root), args.pop(0))
            assert group is not None, f"no such command: marquee {' '.join(line)}"
        group.make_context("marquee", args)  # raises a UsageError on an unknown option or a bad value


def _instructions() -> list[str]:
    """The Dockerfile's instructions, comments dropped and continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile_base_is_pinned_and_user_is_not_root() -> None:
    lines = _instructions()
    (base,) = [line.split()[1] for line in lines if line.startswith("FROM ")]
    image, _, tag = base.partition(":")
    assert re.fullmatch(r"\d+\.\d+\.\d+[\w.-]*", tag) or "@sha256:" in base, f"{base} is not pinned"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}, "the last USER must be unprivileged"


def test_dockerfile_installs_cpu_torch_first_under_the_make_install_constraint() -> None:
    installs = [line for line in _instructions() if line.startswith("RUN ") and "pip install" in line]
    constraint = "-c constraints/linux-cpu.txt"
    assert len(installs) >= 2 and all(constraint in line for line in installs), installs
    assert "torch" in installs[0].split() and "download.pytorch.org/whl/cpu" in installs[0]
    assert " . " in installs[1] + " ", "the project itself installs after torch, under the same constraint"
    assert (ROOT / "constraints" / "linux-cpu.txt").read_text().count("torch==") == 1


def test_dockerfile_copies_every_package_and_each_source_exists() -> None:
    copies = [line.split()[1:-1] for line in _instructions() if line.startswith("COPY ")]
    sources = {source for group in copies for source in group}
    assert all((ROOT / source).exists() for source in sources), sources
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"^include = \[(.*)\]", pyproject, re.MULTILINE)
    assert include is not None
    packages = {p.strip(' "*') for p in include.group(1).split(",")}
    assert packages <= sources, f"the image lacks {packages - sources}"


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", "artifacts", "state", ".git"} <= ignored
