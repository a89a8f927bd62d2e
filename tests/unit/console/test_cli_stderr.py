"""A manage.py command's stderr carries only what the command says: scripts
read the reason for a refusal there (README: "the reason on stderr").
Walking the demo, every command began its stderr with django-axes' startup
line "AXES: BEGIN version 8.3.1, blocking by ip_address or username"."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_a_command_prints_nothing_of_its_own_on_stderr():
    done = subprocess.run([sys.executable, "manage.py", "rollout", "status", "not-a-uuid"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == "CommandError: 'not-a-uuid' is not a rollout id (a UUID, as on its page)."
