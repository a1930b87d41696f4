#!/usr/bin/env python3
"""A real S3-compatible server for perfcert's tests, on 127.0.0.1, with a fault-injecting proxy.

    python s3_server.py

Starts moto's S3 server (pinned in requirements.txt) on a free loopback port, and in front of it a
small reverse proxy that can break requests on demand. Prints one line once both answer:

    READY http://127.0.0.1:S3_PORT http://127.0.0.1:PROXY_PORT

and runs until its stdin reaches EOF (the test process holding the pipe ended), so it never outlives
the tests. Logs go to stderr.

The proxy forwards everything, keeping the Host header (request signatures stay valid), until told
to break the next COUNT requests of one HTTP method:

    POST http://127.0.0.1:PROXY_PORT/__fault?mode=MODE&count=COUNT[&method=PUT]

MODE: 503 (SlowDown), 500 (InternalError), 409 (ConditionalRequestConflict): answered by the proxy,
the server never sees the request; reset: the connection is reset before forwarding; reset_after:
the request is forwarded (the server acts on it) and then the connection is reset instead of
answering, i.e. the response is lost; none. GET /__fault returns what was seen since as JSON:
{"requests": N, "broken": N, "attempts": ["PUT /b/k attempt=1; max=3", ...], "puts": [...]}, where
each of "puts" has the PUT's path, its x-amz-*, content-type, if-none-match and authorization
headers, and the base64 sha256 of the body as received (moto checks neither checksums nor
signatures, so the tests check what was sent).
"""
import base64
import hashlib
import http.client
import http.server
import json
import socket
import struct
import sys
import threading
import urllib.parse

from moto.moto_server.threaded_moto_server import ThreadedMotoServer


def s3_error(code, message):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
    ).encode()


ERRORS = {
    "503": (503, s3_error("SlowDown", "Please reduce your request rate.")),
    "500": (500, s3_error("InternalError", "We encountered an internal error. Please try again.")),
    "409": (409, s3_error("ConditionalRequestConflict", "A conflicting operation occurred.")),
}


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.mode, self.method, self.count = "none", "PUT", 0
        self.requests, self.broken, self.attempts, self.puts = 0, 0, [], []

    def set(self, query):
        with self.lock:
            self.mode = query.get("mode", ["none"])[0]
            self.method = query.get("method", ["PUT"])[0]
            self.count = int(query.get("count", ["1"])[0])
            self.requests, self.broken, self.attempts, self.puts = 0, 0, [], []

    def record_put(self, path, headers, body):
        kept = ("x-amz-", "content-type", "if-none-match", "authorization")
        shown = {k.lower(): v for k, v in headers.items() if k.lower().startswith(kept)}
        sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
        with self.lock:
            self.puts.append({"path": path, "headers": shown, "body_sha256": sha})

    def take(self, method, tag):
        """The fault to inject into this request, if any."""
        with self.lock:
            self.requests += 1
            self.attempts.append(tag)
            if self.mode != "none" and method == self.method and (self.count < 0 or self.broken < self.count):
                self.broken += 1
                return self.mode
            return None

    def report(self):
        with self.lock:
            return {"requests": self.requests, "broken": self.broken, "attempts": list(self.attempts),
                    "puts": list(self.puts)}


def proxy_handler(upstream, faults):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                return self.rfile.read(n)
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            return b""

        def reply(self, status, headers, payload, send_body=True):
            self.send_response_only(status)
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            if send_body:
                self.wfile.write(payload)

        def reset(self):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def handle_any(self):
            payload = self.body()
            if self.path.startswith("/__fault"):
                if self.command == "POST":
                    faults.set(urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query))
                out = json.dumps(faults.report()).encode()
                return self.reply(200, [("Content-Type", "application/json"), ("Content-Length", str(len(out)))], out)
            tag = f'{self.command} {self.path} {self.headers.get("amz-sdk-request", "-")}'
            if self.command == "PUT":
                faults.record_put(self.path, self.headers, payload)
            mode = faults.take(self.command, tag)
            print(f"proxy: {mode or 'pass'} {tag}", file=sys.stderr, flush=True)
            if mode == "reset":
                return self.reset()
            if mode in ERRORS:
                status, body = ERRORS[mode]
                return self.reply(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], body)
            conn = http.client.HTTPConnection(*upstream, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
            if payload or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(payload))
            conn.request(self.command, self.path, body=payload, headers=headers)
            r = conn.getresponse()
            data = r.read()
            conn.close()
            if mode == "reset_after":
                return self.reset()
            out = [
                (k, v)
                for k, v in r.getheaders()
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server")
            ]
            if self.command == "HEAD" and r.getheader("Content-Length") is not None:
                out.append(("Content-Length", r.getheader("Content-Length")))
            else:
                out.append(("Content-Length", str(len(data))))
            self.reply(r.status, out, data, send_body=self.command != "HEAD")

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return Handler


def main():
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    faults = Faults()
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), proxy_handler((host, port), faults))
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    print(f"READY http://{host}:{port} http://127.0.0.1:{proxy.server_address[1]}", flush=True)
    sys.stdin.read()  # until the test process closes the pipe
    proxy.shutdown()
    moto.stop()


if __name__ == "__main__":
    main()
