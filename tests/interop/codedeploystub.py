"""A loopback stand-in for AWS CodeDeploy's StopDeployment, for the bake tests (moto has no
StopDeployment).

Usage: codedeploystub.py ACCESS_KEY SECRET_KEY REGION LOG

Listens on a free 127.0.0.1 port, prints `READY <port>`, and exits when stdin closes. Every request
is appended to LOG as one JSON line: its X-Amz-Target, Content-Type, body, whether its SigV4
signature (service `codedeploy`, REGION, ACCESS_KEY) verified when recomputed with botocore (an
independent signer), and the answer's type. A request that does not verify gets CodeDeploy's 400
`{"__type": ..., "message": ...}`. A verified StopDeployment of deployment `d-DONE` is answered
DeploymentAlreadyCompletedException, `d-GONE` DeploymentDoesNotExistException, any other
`{"status": "Pending", "statusMessage": ...}`.
"""

import datetime
import http.server
import json
import os
import re
import sys
import threading

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY, SECRET_KEY, REGION, LOG = sys.argv[1:5]
TARGET = "CodeDeploy_20141006.StopDeployment"
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, doc, kind, seen):
        seen["answer"] = kind
        with LOCK, open(LOG, "a") as log:
            log.write(json.dumps(seen) + "\n")
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, kind, message, seen):
        self.answer(400, {"__type": kind, "message": message}, kind, seen)

    def check(self, body):
        """None when the signature verifies, else why not."""
        auth = AUTHORIZATION.match(self.headers.get("Authorization", ""))
        if not auth:
            return "no SigV4 Authorization"
        date = self.headers.get("X-Amz-Date", "")
        if (auth["key"], auth["region"], auth["service"]) != (ACCESS_KEY, REGION, "codedeploy"):
            return "credential scope %s/%s/%s" % (auth["key"], auth["region"], auth["service"])
        if not date.startswith(auth["day"]):
            return "X-Amz-Date is not the credential's day"
        signed_at = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if abs((datetime.datetime.now(datetime.timezone.utc) - signed_at).total_seconds()) > 300:
            return "signature expired"
        signed = auth["signed"].split(";")
        for needed in ("host", "x-amz-date", "x-amz-target", "content-type"):
            if needed not in signed:
                return "%s is not signed" % needed
        request = AWSRequest(
            method="POST",
            url="http://" + self.headers["Host"] + self.path,
            data=body,
            headers={name: self.headers.get(name, "") for name in signed},
        )
        request.context["timestamp"] = date
        signer = SigV4Auth(
            Credentials(ACCESS_KEY, SECRET_KEY, self.headers.get("X-Amz-Security-Token")), "codedeploy", REGION
        )
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        return None if expected == auth["signature"] else "signature mismatch"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen = {
            "target": self.headers.get("X-Amz-Target"),
            "content_type": self.headers.get("Content-Type"),
            "body": body.decode("utf-8", "replace"),
        }
        why = self.check(body)
        seen["verified"] = why is None
        if why is not None:
            seen["why"] = why
            return self.error("InvalidSignatureException", "The request signature we calculated does not match", seen)
        if seen["target"] != TARGET or seen["content_type"] != "application/x-amz-json-1.1":
            return self.error("UnknownOperationException", "Unknown operation %s" % seen["target"], seen)
        try:
            request = json.loads(body)
        except ValueError:
            return self.error("SerializationException", "Body is not JSON", seen)
        deployment = request.get("deploymentId")
        if deployment == "d-DONE":
            return self.error(
                "DeploymentAlreadyCompletedException", "The deployment d-DONE is already completed.", seen
            )
        if deployment == "d-GONE" or not deployment:
            return self.error("DeploymentDoesNotExistException", "The deployment %s could not be found." % deployment, seen)
        self.answer(200, {"status": "Pending", "statusMessage": "Stopping deployment %s" % deployment}, "Pending", seen)

    def log_message(self, *args):
        pass


def exit_with_the_test():
    sys.stdin.read()  # the test holds stdin open; when it ends, so does the stub
    os._exit(0)


threading.Thread(target=exit_with_the_test, daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("READY", server.server_address[1], flush=True)
server.serve_forever()
