#!/usr/bin/env bash
# Fifty instances measured (on demand, not in CI; a few minutes): starts N demo instances
# (release build) with traffic, one real Prometheus scraping them every 15 s with the
# generated rules (docs/prometheus/alerts.yml), a second Prometheus with the same rules
# and no target (the memory baseline), and a two-node Alertmanager cluster on loopback
# that Prometheus and every instance push to. It reports per instance: series, bytes and
# samples per scrape (text; gzip and protobuf when the instance serves them), scrape
# duration, the instance's CPU per scrape, Prometheus' memory per instance and per
# series, rule evaluation time, and the Alertmanagers' load; then it kills five
# instances and checks that exactly five INSTANCE_DOWN alerts fire, and nothing else.
# See docs/deployment.md ("What one instance costs").
#
# Usage: scripts/fleet-50.sh [--instances 50] [--down 5] [--scrape-interval 15s]
#                            [--settle 90] [--scrapes-for-cpu 1000] [--json out.json]
# Needs: prometheus, prometheus-alertmanager (Debian packages), python3, cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in prometheus prometheus-alertmanager python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "$tool is required (apt-get install prometheus prometheus-alertmanager python3)" >&2
        exit 1
    fi
done
nice cargo build --release --example service
exec python3 scripts/fleet50.py --service target/release/examples/service \
    --rules docs/prometheus/alerts.yml "$@"
