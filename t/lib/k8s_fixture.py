#!/usr/bin/python3

"""A Kubernetes API server for the tests, as far as pod discovery goes.

It answers GET /api/v1/namespaces/NS/pods[?labelSelector=SEL] over HTTPS
with a PodList in the format the real API server uses (kind, apiVersion,
metadata, items of Pods with metadata, spec and status with conditions),
after checking the bearer token; anything else gets the Status object the
real one sends with an error (401, 403, 404, 400).

What it serves is read again for every request, so that a test changes it
by writing files:

    --token FILE   the token a client must send ("Authorization: Bearer X")
    --pods FILE    a JSON list of the pods that exist, each one
                   {"name": "n0", "ip": "127.0.0.21", "phase": "Running",
                    "ready": true, "labels": {"app": "engram"},
                    "namespace": "default", "deleting": false}
                   (phase, ready, labels, namespace and deleting optional:
                   Running, true, {}, "default", false)

Every request is appended to --log FILE as one JSON object per line:
method, path, query, the headers, and the status answered.  The port it
listens on (127.0.0.1, chosen by the kernel unless --port) is written to
--port-file once it accepts connections.  --chunked sends the answers in
chunks rather than with a Content-Length.

Only loopback: it binds 127.0.0.1 and nothing else.
"""

import argparse
import json
import os
import re
import socketserver
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


RESOURCE_VERSION = 1000


def read_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def status_object(code, reason, message):
    """The Status the API server sends with an error."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def parse_selector(text):
    """Equality and existence requirements: "a=b,c!=d,e,!f".

    Returns a list of (key, op, value) or raises ValueError, as the API
    server refuses a selector it cannot parse."""
    reqs = []

    for part in text.split(","):
        part = part.strip()

        if part == "":
            continue

        m = re.fullmatch(r"([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)",
                         part)
        if m:
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append((m.group(1), op, m.group(3)))
            continue

        m = re.fullmatch(r"(!?)([A-Za-z0-9._/-]+)", part)
        if m:
            reqs.append((m.group(2), "!" if m.group(1) else "exists", None))
            continue

        raise ValueError("unable to parse requirement: " + repr(part))

    return reqs


def selector_matches(reqs, labels):
    for key, op, value in reqs:
        if op == "=" and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
        if op == "exists" and key not in labels:
            return False
        if op == "!" and key in labels:
            return False
    return True


def pod_object(spec, index):
    """A Pod as the API server lists it, from the test's short form."""
    name = spec["name"]
    ns = spec.get("namespace", "default")
    phase = spec.get("phase", "Running")
    ready = spec.get("ready", True)
    created = "2026-11-26T03:00:00Z"

    def condition(kind, ok):
        return {
            "type": kind,
            "status": "True" if ok else "False",
            "lastProbeTime": None,
            "lastTransitionTime": created,
        }

    scheduled = phase != "Pending" or "ip" in spec
    conditions = [condition("PodScheduled", scheduled)]

    if phase != "Pending":
        conditions = [
            condition("Initialized", True),
            condition("Ready", ready),
            condition("ContainersReady", ready),
            condition("PodScheduled", True),
        ]

    metadata = {
        "name": name,
        "generateName": name.rstrip("0123456789") or name,
        "namespace": ns,
        "uid": "00000000-0000-4000-8000-%012d" % index,
        "resourceVersion": str(RESOURCE_VERSION + index),
        "creationTimestamp": created,
        "labels": spec.get("labels", {}),
        "ownerReferences": [{
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": "engram",
            "uid": "11111111-0000-4000-8000-000000000000",
            "controller": True,
            "blockOwnerDeletion": True,
        }],
    }

    if spec.get("deleting"):
        metadata["deletionTimestamp"] = "2026-11-26T03:30:00Z"
        metadata["deletionGracePeriodSeconds"] = 30

    status = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": "10.255.0.1",
        "qosClass": "BestEffort",
    }

    if "ip" in spec:
        status["podIP"] = spec["ip"]
        status["podIPs"] = [{"ip": spec["ip"]}]

    if phase != "Pending":
        status["startTime"] = created
        status["containerStatuses"] = [{
            "name": "engram",
            "ready": bool(ready),
            "restartCount": 0,
            "image": "engram:test",
            "imageID": "",
            "started": phase == "Running",
            "state": {"running": {"startedAt": created}}
            if phase == "Running" else {"terminated": {"exitCode": 0}},
        }]

    return {
        "metadata": metadata,
        "spec": {
            "containers": [{
                "name": "engram",
                "image": "engram:test",
                "ports": [{"containerPort": 7946, "protocol": "UDP"},
                          {"containerPort": 7946, "protocol": "TCP"}],
                "resources": {},
            }],
            "restartPolicy": "Always",
            "serviceAccountName": "engram",
            "nodeName": "node-1",
        },
        "status": status,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "k8s-fixture/1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, code, obj):
        body = json.dumps(obj, indent=1).encode()
        opts = self.server.opts

        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")

        if opts.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

            # odd sizes, so that chunks straddle the client's reads
            for i in range(0, len(body), 777):
                piece = body[i:i + 777]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))

            self.wfile.write(b"0\r\n\r\n")

        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        self.close_connection = True
        self.record(code)

    def record(self, code):
        url = urllib.parse.urlsplit(self.path)
        entry = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "status": code,
        }

        with self.server.log_lock:
            with open(self.server.opts.log, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def do_GET(self):
        opts = self.server.opts
        url = urllib.parse.urlsplit(self.path)

        token = read_text(opts.token)
        auth = self.headers.get("Authorization", "")

        if token is None or auth != "Bearer " + token:
            self.answer(401, status_object(401, "Unauthorized",
                                           "Unauthorized"))
            return

        m = re.fullmatch(r"/api/v1/namespaces/([a-z0-9-]+)/pods", url.path)

        if m is None:
            self.answer(404, status_object(404, "NotFound",
                                           "the server could not find the "
                                           "requested resource"))
            return

        ns = m.group(1)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)

        try:
            reqs = parse_selector(query.get("labelSelector", [""])[0])
        except ValueError as e:
            self.answer(400, status_object(400, "BadRequest", str(e)))
            return

        pods = read_json(opts.pods, [])
        items = [pod_object(p, i) for i, p in enumerate(pods)
                 if p.get("namespace", "default") == ns
                 and selector_matches(reqs, p.get("labels", {}))]

        self.answer(200, {
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(RESOURCE_VERSION)},
            "items": items,
        })

    def do_POST(self):
        self.answer(405, status_object(405, "MethodNotAllowed",
                                       "the server does not allow this "
                                       "method on the requested resource"))


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def finish_request(self, request, client_address):
        # the handshake in the request's thread: a client that stalls or
        # refuses the certificate holds up nobody else
        try:
            request = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return

        try:
            super().finish_request(request, client_address)
        except (ssl.SSLError, OSError):
            pass

    def handle_error(self, request, client_address):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--pods", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--chunked", action="store_true")
    opts = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opts.cert, opts.key)

    server = Server(("127.0.0.1", opts.port), Handler)
    server.opts = opts
    server.ssl_context = ctx
    server.log_lock = threading.Lock()

    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, opts.port_file)

    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass

    return 0


if __name__ == "__main__":
    sys.exit(main())
