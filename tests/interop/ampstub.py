"""A loopback stand-in for Amazon Managed Prometheus' query front end, for the collect tests.

Usage: ampstub.py UPSTREAM_URL WORKSPACE_ID ACCESS_KEY SECRET_KEY REGION

Listens on a free 127.0.0.1 port, prints `READY <port>`, and exits when stdin closes. A request must carry a SigV4
Authorization for service `aps` in REGION with ACCESS_KEY, and its signature is recomputed with
botocore (an independent signer); anything else gets AMP's 403 `{"message": ...}`. A request that
verifies has `/workspaces/WORKSPACE_ID` stripped and is forwarded to the real Prometheus.
"""

import datetime
import http.server
import os
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

UPSTREAM, WORKSPACE, ACCESS_KEY, SECRET_KEY, REGION = sys.argv[1:6]
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


class Handler(http.server.BaseHTTPRequestHandler):
    def refuse(self, kind, message):
        self.answer(403, ('{"message": "%s", "__type": "%s"}' % (message, kind)).encode())

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = AUTHORIZATION.match(self.headers.get("Authorization", ""))
        if not auth:
            return self.refuse("MissingAuthenticationTokenException", "Missing Authentication Token")
        date = self.headers.get("X-Amz-Date", "")
        if (auth["key"], auth["region"], auth["service"]) != (ACCESS_KEY, REGION, "aps") or not date.startswith(
            auth["day"]
        ):
            return self.refuse("UnrecognizedClientException", "The credential scope is not this workspace's")
        signed_at = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if abs((datetime.datetime.now(datetime.timezone.utc) - signed_at).total_seconds()) > 300:
            return self.refuse("InvalidSignatureException", "Signature expired")
        path, _, query = self.path.partition("?")
        request = AWSRequest(
            method="POST",
            url="http://" + self.headers["Host"] + path,
            data=body,
            headers={name: self.headers.get(name, "") for name in auth["signed"].split(";")},
        )
        request.params = [
            tuple(urllib.parse.unquote(part) for part in pair.partition("=")[::2]) for pair in query.split("&") if pair
        ]
        request.context["timestamp"] = date
        signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, self.headers.get("X-Amz-Security-Token")), "aps", REGION)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if expected != auth["signature"]:
            return self.refuse(
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
            )
        prefix = "/workspaces/" + WORKSPACE
        if not path.startswith(prefix + "/api/v1/"):
            return self.answer(404, b'{"message": "Workspace not found"}')
        forward = urllib.request.Request(
            UPSTREAM + self.path[len(prefix) :],
            data=body,
            method="POST",
            headers={"Content-Type": self.headers.get("Content-Type", "")},
        )
        try:
            with urllib.request.urlopen(forward, timeout=30) as response:
                self.answer(response.status, response.read())
        except urllib.error.HTTPError as e:
            self.answer(e.code, e.read())

    def log_message(self, *args):
        pass


def exit_with_the_test():
    sys.stdin.read()  # the test holds stdin open; when it ends, so does the stub
    os._exit(0)


threading.Thread(target=exit_with_the_test, daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("READY", server.server_address[1], flush=True)
server.serve_forever()
