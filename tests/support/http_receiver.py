"""A real HTTP receiver on 127.0.0.1 (http.server in a thread), standing in
for a team's webhook endpoint: it records every POST and answers with the
status codes a test queues, then 200. Made with hold=True it hangs: each
POST is recorded (arrived is set) and answered only after release(), as a
webhook endpoint that stopped answering."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, hold: bool = False):
        self.requests, self.codes, self.paths = [], [], []
        self.arrived, self.released = threading.Event(), threading.Event()
        if not hold:
            self.released.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                receiver.paths.append(self.path)
                receiver.arrived.set()
                receiver.released.wait()
                self.send_response(receiver.codes.pop(0) if receiver.codes else 200)
                self.end_headers()

            def log_message(self, *args):
                pass  # the test reads self.requests

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self):
        """A held receiver answers what waits, and every POST after it at once."""
        self.released.set()

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()
