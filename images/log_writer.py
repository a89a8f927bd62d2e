"""Appends build and push output to an image version's log, one row per
line as it arrives (DESIGN.md: logs are written as they happen)."""
import re

from django.db.models import Max

from images.models import BuildLogLine

LINE_MAX = 8000  # characters kept of one line
LINES_MAX = 20000  # lines kept per writer (one build or one push); the rest is counted
# The engine colours a step's stderr with terminal escapes (ESC[91m ... ESC[0m):
# meaningless on a web page, and they would hide the text from a search.
_TERMINAL_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class LogWriter:
    def __init__(self, version_id: int):
        self.version_id = version_id
        last = BuildLogLine.objects.filter(version_id=version_id).aggregate(last=Max("number"))["last"]
        self.next_number = (last or 0) + 1
        self.partial = ""
        self.written = 0
        self.dropped = 0

    def line(self, text: str) -> str:
        """Store one line; return it without terminal escapes (and uncut)."""
        text = _TERMINAL_ESCAPE.sub("", text).rstrip("\r")
        if self.written >= LINES_MAX:
            self.dropped += 1
            return text
        shown = text
        if len(text) > LINE_MAX:
            text = text[:LINE_MAX] + f" ... ({len(text) - LINE_MAX} more characters)"
        self._store(text)
        self.written += 1
        return shown

    def _store(self, text: str) -> None:
        # PostgreSQL text cannot hold NUL; a line may be any bytes the build printed.
        text = text.replace("\x00", "\ufffd")
        BuildLogLine.objects.create(version_id=self.version_id, number=self.next_number, text=text)
        self.next_number += 1

    def feed(self, chunk: str) -> list[str]:
        """Add stream text; store and return each line it completes. The engine
        sends "Step 2/3 : RUN x" and its "\\n" as two chunks, so lines are joined.
        The lines returned are as stored: the build quotes them in a failure's
        reason, which showed the engine's colour escapes (ESC[91m) raw."""
        self.partial += chunk
        complete = []
        while "\n" in self.partial:
            text, self.partial = self.partial.split("\n", 1)
            complete.append(self.line(text))
        return complete

    def flush(self) -> None:
        if self.partial:
            self.line(self.partial)
            self.partial = ""
        if self.dropped:
            self._store(f"... {self.dropped} more line(s) not stored (over {LINES_MAX})")
            self.dropped = 0
