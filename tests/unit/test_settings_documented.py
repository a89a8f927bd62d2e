"""README says .env.example lists every setting: each name settings.py reads
from the environment has its line there (commented out, with its default)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_read_from_the_environment_has_a_line_in_env_example():
    read = set(re.findall(r'\benv(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', (ROOT / "stackato_dash" / "settings.py").read_text()))
    listed = set(re.findall(r"(?m)^#?([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text()))
    assert len(read) > 30  # the pattern still finds settings.py's reads
    assert sorted(read - listed) == []
