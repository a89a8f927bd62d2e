"""Dockerfile rendering: each RUN step stays one line, whatever is typed."""
import pytest
from django.core.exceptions import ValidationError

from images.dockerfile import DockerfileError, render, validate_cmd, validate_run_step

BASE = "stackato/app-holophonor:3.0.0"


def test_the_seed_dockerfile():
    assert render(BASE, ["apt-get -y install libgraphite2-dev"], ["start.sh"]) == (
        "FROM stackato/app-holophonor:3.0.0\n"
        "RUN apt-get -y install libgraphite2-dev\n"
        'CMD ["start.sh"]\n')


@pytest.mark.parametrize("step, message", [
    ("", "cannot be empty"),
    ("   \t ", "cannot be empty"),
    ("echo a\nFROM evil", "one line"),
    ("echo a\nADD http://evil/x /bin/sh", "one line"),
    ("echo a\rRUN x", "one line"),
    ("echo a\r\n", "one line"),
    ("echo a\\", "backslash"),
    ("echo a \\  ", "backslash"),
    ("echo \x00", "one line"),
    ("echo \x0b", "one line"),
    ("echo \x85x", "one line"),
    ("echo a\u2028FROM evil", "one line"),
    ("echo a\u2029x", "one line"),
    ("echo \u202eevil", "invisible"),
    ("echo zero\u200bwidth", "invisible"),
    ("x" * 10_000, "at most 2000"),
    ("--network=host curl http://x", "cannot start with '-'"),
    ("--mount=type=bind,source=/,target=/h cat /h/etc/shadow", "cannot start with '-'"),
    ("cat <<EOF", "heredoc"),
])
def test_hostile_run_steps_are_refused_with_a_reason(step, message):
    with pytest.raises(ValidationError, match=message):
        validate_run_step(step)
    with pytest.raises(DockerfileError, match=message):
        render(BASE, ["true", step], ["start.sh"])


@pytest.mark.parametrize("step", [
    "apt-get update && apt-get -y install x", "echo a; echo b | tee /x > /y 2>&1", "echo $(id) `id` $HOME",
    "echo 'FROM x' > /f", "echo caf\u00e9 \u0430\uff1a", "[\"/bin/echo\", \"exec form\"]", "echo a\tb",
])
def test_shell_metacharacters_stay_inside_one_run_line(step):
    """A step is a shell command for the build container: metacharacters
    and look-alikes are its business, but they never leave its line."""
    validate_run_step(step)
    lines = render(BASE, [step], ["start.sh"]).splitlines()
    assert lines == [f"FROM {BASE}", f"RUN {step}", 'CMD ["start.sh"]']


@pytest.mark.parametrize("cmd", [[], "start.sh", ["start.sh\nRUN x"], [""], [1], ["a"] * 33, ["x" * 513], None])
def test_bad_cmd_is_refused(cmd):
    with pytest.raises(ValidationError, match="CMD"):
        validate_cmd(cmd)


def test_cmd_is_rendered_as_json():
    assert render(BASE, [], ["/bin/sh", "-c", 'echo "hi"']).splitlines()[-1] == 'CMD ["/bin/sh", "-c", "echo \\"hi\\""]'


@pytest.mark.parametrize("ref", ["", "x y", "x\nRUN evil", "--platform=x x", "x AS y", "\u0430pp:1"])
def test_a_bad_from_is_refused(ref):
    with pytest.raises(DockerfileError, match="FROM"):
        render(ref, [], ["start.sh"])
