"""The Dockerfile of an image version: FROM + one RUN per step + CMD.

Each RUN step must stay exactly one Dockerfile line, so no step can smuggle
another instruction (FROM, ADD, COPY...) in through a newline, a carriage
return or a trailing-backslash continuation. Shell metacharacters inside a
step are allowed on purpose: a step IS a shell command, run by the build
engine inside the build container (network mode none); nothing of it is
ever given to a shell on our side.
"""
import json
import unicodedata

from django.core.exceptions import ValidationError

from images import references

RUN_STEP_MAX = 2000
CMD_MAX_ITEMS = 32
CMD_ITEM_MAX = 512
DEFAULT_CMD = ("start.sh",)


class DockerfileError(ValueError):
    """What would be rendered is not a safe Dockerfile."""


def default_cmd() -> list[str]:
    return list(DEFAULT_CMD)


def _line_breaking(char: str) -> bool:
    # Control characters (\n, \r, \v, \f, NUL, \x85...) and the Unicode line and
    # paragraph separators: each could end a line for some reader. Tab is fine.
    return char != "\t" and (unicodedata.category(char) in ("Cc", "Zl", "Zp"))


def run_step_problem(step) -> str | None:
    """Why this RUN step is refused, or None when it is one safe line."""
    if not isinstance(step, str):
        return "a RUN step must be text"
    if not step.strip():
        return "a RUN step cannot be empty"
    if len(step) > RUN_STEP_MAX:
        return f"a RUN step is at most {RUN_STEP_MAX} characters (this one has {len(step)})"
    bad = next((c for c in step if _line_breaking(c)), None)
    if bad is not None:
        return (f"a RUN step must be one line: it contains the control character {bad!r}; "
                "use ';' or '&&' to chain commands")
    # Invisible formatting (zero-width, right-to-left override) would make the
    # step read differently in review than what runs.
    hidden = next((c for c in step if unicodedata.category(c) == "Cf"), None)
    if hidden is not None:
        return f"a RUN step cannot contain the invisible character {unicodedata.name(hidden, repr(hidden))}"
    if step.rstrip().endswith("\\"):
        return "a RUN step cannot end with a backslash: that would continue into the next Dockerfile line"
    if step.lstrip().startswith("-"):
        return "a RUN step cannot start with '-': RUN flags such as --mount or --network are not allowed"
    if "<<" in step:
        return "a RUN step cannot contain '<<': heredocs span several Dockerfile lines"
    return None


def validate_run_step(value) -> None:
    problem = run_step_problem(value)
    if problem:
        raise ValidationError(problem[0].upper() + problem[1:] + ".")


def cmd_problem(cmd) -> str | None:
    if not isinstance(cmd, list) or not cmd or not all(isinstance(item, str) for item in cmd):
        return 'CMD must be a non-empty JSON list of strings, e.g. ["start.sh"]'
    if len(cmd) > CMD_MAX_ITEMS:
        return f"CMD has at most {CMD_MAX_ITEMS} items"
    for item in cmd:
        if not item or len(item) > CMD_ITEM_MAX or any(_line_breaking(c) for c in item):
            return f"each CMD item must be 1 to {CMD_ITEM_MAX} characters on one line, not {item[:80]!r}"
    return None


def validate_cmd(value) -> None:
    problem = cmd_problem(value)
    if problem:
        raise ValidationError(problem + ".")


def render(from_reference: str, run_steps: list[str], cmd: list[str]) -> str:
    """The Dockerfile text; DockerfileError if any part is not allowed, so a
    bad row can never reach the build engine even if it bypassed the forms."""
    try:
        references.parse(from_reference)
    except ValueError as error:
        raise DockerfileError(f"FROM: {error}") from None
    lines = [f"FROM {from_reference}"]
    for number, step in enumerate(run_steps, start=1):
        problem = run_step_problem(step)
        if problem:
            raise DockerfileError(f"RUN step {number}: {problem}")
        lines.append(f"RUN {step.strip()}")
    problem = cmd_problem(cmd)
    if problem:
        raise DockerfileError(problem)
    # JSON (exec) form: ensure_ascii escapes anything unusual into \\uXXXX.
    lines.append(f"CMD {json.dumps(cmd)}")
    return "\n".join(lines) + "\n"
