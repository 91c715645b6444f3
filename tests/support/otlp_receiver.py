#!/usr/bin/env python3
"""An OTLP/HTTP metrics receiver on loopback, for tests/otlp_e2e.rs.

Decodes each POST /v1/metrics body with the OpenTelemetry project's own protobuf
definitions (PyPI `opentelemetry-proto`) and prints one JSON line per request on stdout:
{"at": monotonic seconds, "status": the answer, "headers": {...}, "request": the decoded
ExportMetricsServiceRequest (field names as in the .proto, enums by name, 64-bit
integers as strings)}. The first line is {"port": N}.

Usage: otlp_receiver.py [--refuse N] [--retry-after SECONDS]
  --refuse N: answer the first N requests 503 (with Retry-After if given), then 200.
"""
import argparse
import gzip
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

parser = argparse.ArgumentParser()
parser.add_argument("--refuse", type=int, default=0)
parser.add_argument("--retry-after", default=None)
args = parser.parse_args()
state = {"seen": 0}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        at = time.monotonic()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = metrics_service_pb2.ExportMetricsServiceRequest()
        request.ParseFromString(body)
        state["seen"] += 1
        status = 503 if state["seen"] <= args.refuse else 200
        line = {
            "at": at,
            "path": self.path,
            "status": status,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "request": json_format.MessageToDict(request, preserving_proto_field_name=True),
        }
        print(json.dumps(line), flush=True)
        answer = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
        self.send_response(status)
        if status == 503 and args.retry_after is not None:
            self.send_header("Retry-After", args.retry_after)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(json.dumps({"port": server.server_address[1]}), flush=True)
server.serve_forever()
