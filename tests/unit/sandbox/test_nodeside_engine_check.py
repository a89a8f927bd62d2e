"""engine_check against a fake Docker Engine API on a unix socket."""
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from sandbox.nodeside import engine_check, fence

IMAGES = {"stackato/app-holophonor:3.0.0", "127.0.0.11:5000/newimg:1.0.0"}


class FakeEngine(BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        FakeEngine.seen.append(self.path)
        name = self.path[len("/images/"):-len("/json")]
        if name == "boom:1":
            status, body = 500, {"message": "engine on fire"}
        elif name in IMAGES:
            status, body = 200, {"Id": "sha256:x"}
        else:
            status, body = 404, {"message": f"No such image: {name}"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


@pytest.fixture
def engine(tmp_path):
    server = socketserver.UnixStreamServer(str(tmp_path / "d.sock"), FakeEngine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeEngine.seen = []
    yield f"unix://{tmp_path / 'd.sock'}"
    server.shutdown()
    server.server_close()


def test_present_and_missing_images(engine):
    assert engine_check.has_image(engine, "stackato/app-holophonor:3.0.0") is True
    assert engine_check.has_image(engine, "127.0.0.11:5000/newimg:1.0.0") is True
    assert engine_check.has_image(engine, "missing/image:9") is False
    assert FakeEngine.seen[0] == "/images/stackato/app-holophonor:3.0.0/json"


def test_engine_errors_are_reported_not_taken_for_missing(engine, tmp_path):
    with pytest.raises(engine_check.EngineError, match="500: engine on fire"):
        engine_check.has_image(engine, "boom:1")
    with pytest.raises(engine_check.EngineError, match="not answering"):
        engine_check.has_image(f"unix://{tmp_path / 'nobody.sock'}", "a:1")
    with pytest.raises(engine_check.EngineError, match="unsupported"):
        engine_check.has_image("ssh://host", "a:1")


def test_fence_reasons(engine, tmp_path):
    cluster = {"docker": True}
    assert fence.missing_image_reason("stackato/app-holophonor:3.0.0", cluster, engine) is None
    assert fence.missing_image_reason("missing/image:9", cluster, engine) == \
        f"image missing/image:9 is not in the engine at {engine}"
    assert "cannot check image" in fence.missing_image_reason(
        "a:1", cluster, f"unix://{tmp_path / 'nobody.sock'}")
