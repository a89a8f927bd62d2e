"""The demo's build engine: scripts/print_config.py (what demo.sh exports to
its web server and workers) names the sandbox Core node's engine unless the
user chose one, in the environment or in .env; and the registry image
"Provision registry" runs is the sandbox's offline one unless the user chose one;
its registry (plain HTTP) is declared insecure unless the user declared others."""
import os
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def demo_config(tmp_path, **env) -> dict:
    chosen = ("BUILD_DOCKER_HOST", "REGISTRY_IMAGE", "INSECURE_REGISTRIES")  # the user's, if any: each test says
    base = {name: value for name, value in os.environ.items() if name not in chosen}
    base.update(STACKATO_DASH_VAR_DIR=str(tmp_path), REDIS_URL="redis://:pw@127.0.0.1:6399/0", **env)
    out = subprocess.run([sys.executable, "scripts/print_config.py"], cwd=REPO, env=base, capture_output=True,
                         text=True, check=True).stdout
    return dict(shlex.split(line)[0].split("=", 1) for line in out.splitlines())


def test_without_a_setting_the_demo_builds_on_its_sandbox_core_node(tmp_path):
    assert demo_config(tmp_path, SANDBOX_BASE_ADDRESS="127.0.9.11")["BUILD_DOCKER_HOST"] == "ssh-node:127.0.9.11"


def test_a_build_engine_the_user_set_is_kept(tmp_path):
    config = demo_config(tmp_path, BUILD_DOCKER_HOST="tcp://127.0.0.1:2375")
    assert config["BUILD_DOCKER_HOST"] == "tcp://127.0.0.1:2375"


def test_without_a_setting_the_demo_provisions_the_sandboxs_offline_registry_image(tmp_path):
    # registry:2 (the app's default) cannot be pulled on the offline sandbox engine.
    assert demo_config(tmp_path)["REGISTRY_IMAGE"] == "stackato-dash/sandbox-registry:2.8"


def test_a_registry_image_the_user_set_is_kept(tmp_path):
    assert demo_config(tmp_path, REGISTRY_IMAGE="10.0.0.5:5000/registry:2.8")["REGISTRY_IMAGE"] == (
        "10.0.0.5:5000/registry:2.8")


def test_without_a_setting_the_demo_declares_its_sandboxs_plain_http_registry_insecure(tmp_path):
    assert demo_config(tmp_path, SANDBOX_BASE_ADDRESS="127.0.9.11")["INSECURE_REGISTRIES"] == "127.0.9.11:5000"


def test_insecure_registries_the_user_set_are_kept(tmp_path):
    config = demo_config(tmp_path, INSECURE_REGISTRIES="10.0.0.5:5000,127.0.0.0/8")
    assert config["INSECURE_REGISTRIES"] == "10.0.0.5:5000,127.0.0.0/8"
