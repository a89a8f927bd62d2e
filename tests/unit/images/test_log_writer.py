import pytest

from images import log_writer
from images.log_writer import LogWriter
from images.models import BuildLogLine

pytestmark = pytest.mark.django_db


def texts(version):
    return list(BuildLogLine.objects.filter(version=version).values_list("text", flat=True))


def test_stream_chunks_become_lines_in_order(make_version):
    version = make_version()
    log = LogWriter(version.pk)
    assert log.feed("Step 2/3 : RUN x") == []
    assert log.feed("\n") == ["Step 2/3 : RUN x"]
    log.feed("a\r\nb\x00c\n\x1b[91mon stderr\n\x1b[0mparti")
    log.flush()
    assert texts(version) == ["Step 2/3 : RUN x", "a", "b\ufffdc", "on stderr", "parti"]
    # A second writer (the push) continues the numbering.
    LogWriter(version.pk).line("push")
    assert list(BuildLogLine.objects.filter(version=version).values_list("number", flat=True)) == [1, 2, 3, 4, 5, 6]


def test_a_flood_is_capped_and_counted(make_version, monkeypatch):
    monkeypatch.setattr(log_writer, "LINES_MAX", 3)
    monkeypatch.setattr(log_writer, "LINE_MAX", 10)
    version = make_version()
    log = LogWriter(version.pk)
    log.feed("x" * 25 + "\n" + "l\n" * 9)
    log.flush()
    assert texts(version) == ["x" * 10 + " ... (15 more characters)", "l", "l",
                              "... 7 more line(s) not stored (over 3)"]
