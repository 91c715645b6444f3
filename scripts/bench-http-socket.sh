#!/usr/bin/env bash
# Throughput and latency of the HTTP middleware over a real socket: a bare axum route,
# the same behind mcp-monitor's layer, and behind axum-prometheus, served from one
# process pinned to one core while wrk, pinned to another core, loads them in
# interleaved rounds. Three passes: the variants loaded in turn (throughput and latency
# of each alone, at saturation), then loaded at once (CPU cost per request under
# identical machine conditions), then in turn at a moderate load (each connection
# waits 1 ms between requests: latency with spare capacity). See docs/benchmarks.md
# ("HTTP middleware").
#
# Usage: scripts/bench-http-socket.sh [--rounds 10] [--duration 5] [--warmup 2]
#                                     [--connections 32] [--server-cpu 1] [--load-cpu 0]
#                                     [--min-server-cpu 0.9] [--current-thread]
#                                     (passed to every pass)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v taskset >/dev/null; then
    echo "taskset (util-linux) is required" >&2
    exit 1
fi
if ! command -v wrk >/dev/null; then
    if command -v apt-get >/dev/null; then
        sudo=""
        if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo apt-get update
        $sudo apt-get install -y wrk
    else
        echo "wrk is required (https://github.com/wg/wrk, or your distribution's package)" >&2
        exit 1
    fi
fi
if [ "$(nproc)" -lt 2 ]; then
    echo "warning: fewer than 2 CPUs: server and wrk will share a core" >&2
fi

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(rustc --version)"
echo "wrk: $(wrk --version 2>&1 | head -1)"
cargo bench -p mcp-monitor --bench http_socket --no-run
cargo bench -p mcp-monitor --bench http_socket -- "$@"
cargo bench -p mcp-monitor --bench http_socket -- "$@" --concurrent
cargo bench -p mcp-monitor --bench http_socket -- "$@" --think-ms 1
