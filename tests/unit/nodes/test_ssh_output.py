"""Session.run keeps what a command printed when the command ended before
the reading thread looked at its channel (a busy machine: the transport's
thread has already taken the output, the exit status and the close).

No network: the channel is paramiko's own, in the state its transport thread
leaves a finished command in (output buffered, EOF, exit status, closed), so
recv_ready()/recv() behave as on a real connection."""
import paramiko

from nodes.ssh import Endpoint, Session

DIGESTS = b'["reg:5000/app@sha256:' + b"a" * 64 + b'"]\n'


class _Done(paramiko.Channel):
    """A channel whose command already ran to its end on the node."""

    def __init__(self, stdout: bytes, stderr: bytes = b"", exit_status: int = 0):
        super().__init__(7)
        self.in_buffer.feed(stdout)
        self.in_stderr_buffer.feed(stderr)
        self.eof_received = True
        self.exit_status = exit_status
        self.status_event.set()
        # What the transport thread does on the node's CHANNEL_CLOSE
        # (Channel._set_closed): buffered data stays readable.
        self.closed = True
        self.in_buffer.close()
        self.in_stderr_buffer.close()

    def exec_command(self, command):
        pass  # sent and answered already, in the story this channel tells

    def close(self):
        pass


class _Transport:
    def __init__(self, channel):
        self.channel = channel

    def is_active(self):
        return True

    def open_session(self, timeout=None):
        return self.channel


def _session(channel) -> Session:
    session = Session(Endpoint("127.0.0.12", 22, "stackato", None))
    session.transport = _Transport(channel)
    return session


def test_the_output_of_a_command_whose_channel_closed_before_it_was_read_is_kept():
    result = _session(_Done(DIGESTS)).run(["docker", "inspect", "--", "reg:5000/app:2"], timeout=5)
    assert (result.exit_code, result.stdout) == (0, DIGESTS.decode())


def test_its_stderr_and_exit_code_are_kept_too():
    result = _session(_Done(b"", b"Error: No such image: reg:5000/app:2\n", 1)).run(
        ["docker", "inspect", "--", "reg:5000/app:2"], timeout=5)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "Error: No such image: reg:5000/app:2\n")
