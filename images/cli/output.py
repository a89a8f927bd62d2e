"""What a command prints: one JSON document with --json; otherwise plain
lines, and on a terminal a progress bar redrawn in place (a pipe or a CI log
gets one line per change instead)."""
import json


class Output:
    BAR = 30  # characters

    def __init__(self, stdout, *, as_json: bool):
        self.stdout = stdout
        self.as_json = as_json
        self.tty = not as_json and getattr(stdout, "isatty", lambda: False)()
        self._last = None
        self._bar_drawn = False

    def line(self, text: str) -> None:
        if self.as_json:
            return
        self._end_bar()
        self.stdout.write(text)

    def progress(self, done: int, total: int, label: str) -> None:
        """A step of a long action; printed only when it changed."""
        if self.as_json or (done, total, label) == self._last:
            return
        self._last = (done, total, label)
        if not self.tty:
            self.stdout.write(f"{done}/{total} {label}")
            return
        filled = self.BAR * done // total if total else 0
        self.stdout.write(f"\r[{'#' * filled}{'.' * (self.BAR - filled)}] {done}/{total} {label}\033[K", ending="")
        self.stdout.flush()
        self._bar_drawn = True

    def result(self, document: dict, text: str) -> None:
        """The command's answer: the document with --json, else the text."""
        self._end_bar()
        if self.as_json:
            self.stdout.write(json.dumps(document, indent=2, default=str))
        else:
            self.stdout.write(text)

    def _end_bar(self):
        if self._bar_drawn:
            self.stdout.write("")
            self._bar_drawn = False
