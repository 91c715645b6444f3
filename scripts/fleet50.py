#!/usr/bin/env python3
"""The driver of scripts/fleet-50.sh (Python standard library only): starts the fleet,
measures it, checks the outage, prints the figures, and stops every process it started
by its PID. Run it through scripts/fleet-50.sh, which builds the demo first."""

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PROTO_ACCEPT = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROCS = []  # (name, Popen), stopped at exit by PID


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, data=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, dict(r.headers), r.read()


def get_json(url):
    return json.loads(http(url)[2])


def wait(what, f, timeout=300, every=0.5):
    start = time.time()
    while True:
        try:
            v = f()
            if v:
                return v
        except (OSError, urllib.error.URLError, ValueError):
            pass
        if time.time() - start > timeout:
            raise SystemExit(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def start(name, argv, env=None, log_path=None):
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL)
    PROCS.append((name, p))
    return p


def stop(p):
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()


def stop_all():
    for _, p in reversed(PROCS):
        stop(p)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def start_binary_with_ports(name, make_argv, ports, log_path, ready_url, attempts=5):
    """Starts a binary that binds its own ports, picking new ones when a port was taken
    between our check and its bind (EADDRINUSE in its log)."""
    for _ in range(attempts):
        chosen = [free_port() for _ in range(ports)]
        p = start(name, make_argv(*chosen), log_path=log_path)
        deadline = time.time() + 60
        while time.time() < deadline:
            if p.poll() is not None:
                break
            try:
                if http(ready_url(*chosen), timeout=2)[0] == 200:
                    return p, chosen
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        stop(p)
        text = open(log_path, errors="replace").read()
        if "address already in use" not in text:
            raise SystemExit(f"{name} did not start; its log:\n{text[-3000:]}")
    raise SystemExit(f"{name}: no free port after {attempts} attempts")


def query(prom, q):
    url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    return get_json(url)["data"]["result"]


def own_metrics(base, name):
    """The samples of `name` on a server's own /metrics, as (labels text, value)."""
    out = []
    for line in http(base + "/metrics")[2].decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            head, value = line.rsplit(" ", 1)
            out.append((head[len(name):], float(value)))
    return out


def own(base, name):
    return sum(v for _, v in own_metrics(base, name))


def scalar(prom, q):
    r = query(prom, q)
    return float(r[0]["value"][1]) if r else float("nan")


class Traffic(threading.Thread):
    """A steady mix of the demo's routes on every live instance, `rate` requests per
    second each: a user created once, then reads that hit the cache, lists, and a valid
    workflow run (no 5xx, no failed step, so no alert of its own)."""

    def __init__(self, instances, rate):
        super().__init__(daemon=True)
        self.instances, self.rate, self.stop_flag, self.count = instances, rate, False, 0

    def run(self):
        for i in self.instances:
            body = json.dumps({"name": "Ada", "email": f"ada@{i['name']}.example"}).encode()
            http(i["base"] + "/users", body, {"content-type": "application/json"})
        k = 0
        period = 1.0 / self.rate
        while not self.stop_flag:
            t0 = time.time()
            for i in self.instances:
                if not i["alive"]:
                    continue
                try:
                    match k % 4:
                        case 0 | 1:
                            http(i["base"] + "/users/1")
                        case 2:
                            http(i["base"] + "/users")
                        case 3:
                            body = json.dumps({"records": [1, "two", {"three": 3}]}).encode()
                            http(i["base"] + "/workflows/data_processing", body,
                                 {"content-type": "application/json"})
                    self.count += 1
                except (OSError, urllib.error.URLError):
                    pass
            k += 1
            time.sleep(max(0.0, period - (time.time() - t0)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--service", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--instances", type=int, default=50)
    ap.add_argument("--down", type=int, default=5)
    ap.add_argument("--scrape-interval", default="15s")
    ap.add_argument("--settle", type=int, default=90, help="seconds of scraping before measuring")
    ap.add_argument("--rate", type=float, default=2.0, help="requests per second per instance")
    ap.add_argument("--scrapes-for-cpu", type=int, default=1000)
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="fleet50-")
    try:
        run(a, work)
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)


def run(a, work):
    t_start = time.time()
    # --- The Alertmanager pair, peered on loopback, and the instances pushing to both.
    am_cfg = os.path.join(work, "am.yml")
    with open(am_cfg, "w") as f:
        f.write("route:\n  receiver: nobody\n  group_by: [alertname, instance]\n"
                "  group_wait: 10s\n  group_interval: 1m\n  repeat_interval: 4h\n"
                "receivers:\n  - name: nobody\n")
    ams = []
    for n in range(2):
        peer = [f"--cluster.peer=127.0.0.1:{ams[0]['cluster']}"] if ams else []
        d = os.path.join(work, f"am{n}")
        os.makedirs(d)
        p, (web, cluster) = start_binary_with_ports(
            f"alertmanager-{n}",
            lambda web, cluster, d=d, peer=peer: [
                "prometheus-alertmanager", f"--config.file={am_cfg}", f"--storage.path={d}",
                f"--web.listen-address=127.0.0.1:{web}",
                f"--cluster.listen-address=127.0.0.1:{cluster}",
                f"--cluster.advertise-address=127.0.0.1:{cluster}", *peer],
            2, os.path.join(d, "log"), lambda web, _c: f"http://127.0.0.1:{web}/-/ready")
        ams.append({"p": p, "base": f"http://127.0.0.1:{web}", "cluster": cluster})
    am_urls = ",".join(am["base"] for am in ams)
    log(f"alertmanager pair up: {am_urls}")

    instances = []
    for n in range(a.instances):
        name = f"fleet-{n:02d}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_")}
        env.update({
            "MCP_ADDR": "127.0.0.1:0", "MCP_GRPC_ADDR": "127.0.0.1:0", "MCP_INSTANCE": name, "MCP_ALERT_LABELS": "job=mcp",
            "MCP_ALERTMANAGER_URL": am_urls, "RUST_LOG": "warn",
            # The machine is shared: its CPU, memory and load are not what is measured
            # here, and must not alert.
            "MCP_CPU_THRESHOLD": "100%", "MCP_MEMORY_THRESHOLD": "100%",
            "MCP_SYSTEM_LOAD_THRESHOLD": "1000",
        })
        out = os.path.join(work, f"{name}.log")
        p = start(name, [a.service], env=env, log_path=out)
        instances.append({"name": name, "p": p, "log": out, "alive": True})
    for i in instances:
        def addr(i=i):
            m = re.search(r"listening on (http://\S+)", open(i["log"], errors="replace").read())
            return m and m.group(1)
        i["base"] = wait(f"{i['name']} to listen", addr, timeout=120)
        i["port"] = int(i["base"].rsplit(":", 1)[1])
    log(f"{len(instances)} instances up")

    # --- Prometheus with the rules and the fleet; a baseline one with the rules only.
    def prometheus(tag, targets):
        d = os.path.join(work, tag)
        os.makedirs(d)
        shutil.copy(a.rules, os.path.join(d, "alerts.yml"))
        am_targets = ", ".join(f"'{am['base'][7:]}'" for am in ams)
        static = "".join(
            f"      - targets: ['127.0.0.1:{i['port']}']\n        labels: {{instance: {i['name']}}}\n"
            for i in targets)
        cfg = (f"global:\n  scrape_interval: {a.scrape_interval}\n  evaluation_interval: 15s\n"
               "rule_files: [alerts.yml]\n"
               f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{am_targets}]\n"
               "scrape_configs:\n  - job_name: mcp\n    static_configs:\n"
               + (static or "      - targets: []\n"))
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write(cfg)
        p, (port,) = start_binary_with_ports(
            f"prometheus-{tag}",
            lambda port: ["prometheus", f"--config.file={d}/prometheus.yml",
                          f"--storage.tsdb.path={d}/data", f"--web.listen-address=127.0.0.1:{port}"],
            1, os.path.join(d, "log"), lambda port: f"http://127.0.0.1:{port}/-/ready")
        return p, f"http://127.0.0.1:{port}"

    prom_p, prom = prometheus("prometheus", instances)
    base_p, base_prom = prometheus("baseline", [])
    log(f"prometheus {prom} (baseline {base_prom})")

    traffic = Traffic(instances, a.rate)
    traffic.start()
    wait("every target to be scraped", lambda: scalar(prom, "count(up == 1)") == a.instances)
    log(f"all targets up; settling {a.settle}s")
    time.sleep(a.settle)

    # --- Per-instance figures from Prometheus.
    f = {}
    f["instances"] = a.instances
    f["samples_per_scrape"] = scalar(prom, 'avg(scrape_samples_scraped{job="mcp"})')
    f["samples_per_scrape_max"] = scalar(prom, 'max(scrape_samples_scraped{job="mcp"})')
    f["head_series"] = own(prom, "prometheus_tsdb_head_series")
    f["head_series_baseline"] = own(base_prom, "prometheus_tsdb_head_series")
    f["series_per_instance"] = (f["head_series"] - f["head_series_baseline"]) / a.instances
    f["scrape_duration_avg_s"] = scalar(prom, 'avg(avg_over_time(scrape_duration_seconds{job="mcp"}[2m]))')
    f["scrape_duration_max_s"] = scalar(prom, 'max(max_over_time(scrape_duration_seconds{job="mcp"}[2m]))')
    for key, name in [("rss", "process_resident_memory_bytes"), ("heap", "go_memstats_heap_inuse_bytes")]:
        full, base = own(prom, name), own(base_prom, name)
        f[f"prometheus_{key}_bytes"] = full
        f[f"prometheus_{key}_baseline_bytes"] = base
        f[f"prometheus_{key}_per_instance_bytes"] = (full - base) / a.instances
    f["prometheus_heap_per_series_bytes"] = (
        (f["prometheus_heap_bytes"] - f["prometheus_heap_baseline_bytes"])
        / max(1.0, f["head_series"] - f["head_series_baseline"]))
    f["rule_groups"] = {
        re.search(r';([^"]*)"', labels).group(1): v
        for labels, v in own_metrics(prom, "prometheus_rule_group_last_duration_seconds")}
    f["rule_eval_total_s"] = sum(f["rule_groups"].values())
    f["rules"] = own(prom, "prometheus_rule_group_rules")
    f["rule_eval_baseline_s"] = own(base_prom, "prometheus_rule_group_last_duration_seconds")
    # The rule evaluation time is noisy on a shared machine: also the mean over the run.
    evals = own(prom, "prometheus_rule_group_duration_seconds_count")
    f["rule_eval_mean_s"] = (own(prom, "prometheus_rule_group_duration_seconds_sum") / evals
                             if evals else float("nan"))
    # Alertmanager's load: alerts received per second, from its own counter.
    rates = []
    for am in ams:
        def received(am=am):
            text = http(am["base"] + "/metrics")[2].decode()
            return sum(float(l.split()[-1]) for l in text.splitlines()
                       if l.startswith("alertmanager_alerts_received_total"))
        rates.append(received)
    r0, t0 = [g() for g in rates], time.time()

    # --- Bytes per scrape, as each encoding the instance serves.
    one = instances[0]
    enc = {}
    _, h, body = http(one["base"] + "/metrics")
    enc["text"] = {"bytes": len(body), "content_type": h.get("Content-Type", "")}
    _, h, body = http(one["base"] + "/metrics", headers={"Accept-Encoding": "gzip"})
    enc["text+gzip"] = {"bytes": len(body), "served": h.get("Content-Encoding") == "gzip",
                        "gzip_of_text_bytes": len(gzip.compress(enc_body_text(one)))}
    _, h, body = http(one["base"] + "/metrics", headers={"Accept": PROTO_ACCEPT})
    enc["protobuf"] = {"bytes": len(body), "content_type": h.get("Content-Type", ""),
                       "served": "protobuf" in h.get("Content-Type", "")}
    f["encodings"] = enc

    # --- The instance's CPU per scrape: its CPU over N back-to-back scrapes, less its
    # CPU over as long a time without them (its traffic and background tasks).
    n = a.scrapes_for_cpu
    c0, w0 = cpu_ticks(one["p"].pid), time.time()
    for _ in range(n):
        http(one["base"] + "/metrics")
    c1, w1 = cpu_ticks(one["p"].pid), time.time()
    time.sleep(w1 - w0)
    c2, w2 = cpu_ticks(one["p"].pid), time.time()
    busy = (c1 - c0) / CLK_TCK
    idle = (c2 - c1) / CLK_TCK * (w1 - w0) / (w2 - w1)
    f["cpu_per_scrape_s"] = max(0.0, busy - idle) / n
    f["cpu_scrape_window_s"] = w1 - w0
    f["cpu_background_s_per_s"] = (c2 - c1) / CLK_TCK / (w2 - w1)

    time.sleep(max(0.0, 30 - (time.time() - t0)))
    r1, t1 = [g() for g in rates], time.time()
    f["am_alerts_received_per_s"] = [(b - a_) / (t1 - t0) for a_, b in zip(r0, r1)]

    # --- Before the outage: nothing fires anywhere.
    def alerts_in(am):
        return [x for x in get_json(am["base"] + "/api/v2/alerts")]
    before = {am["base"]: alerts_in(am) for am in ams}
    f["alerts_before_outage"] = {k: [x["labels"] for x in v] for k, v in before.items()}
    prom_before = query(prom, "ALERTS")
    f["prometheus_alerts_before_outage"] = [x["metric"] for x in prom_before]

    # --- The outage: five instances killed; exactly five INSTANCE_DOWN, nothing else.
    down = instances[: a.down]
    for i in down:
        i["alive"] = False
        stop(i["p"])
    t_kill = time.time()
    log(f"killed {[i['name'] for i in down]}; waiting for INSTANCE_DOWN (for: 1m)")
    names = sorted(i["name"] for i in down)

    def five_down():
        for am in ams:
            got = [x for x in alerts_in(am) if x["labels"].get("alertname") == "INSTANCE_DOWN"]
            if sorted(x["labels"]["instance"] for x in got) != names:
                return None
        return True
    wait("five INSTANCE_DOWN in both Alertmanagers", five_down, timeout=600, every=2)
    f["instance_down_after_s"] = time.time() - t_kill
    # Two minutes of the outage (Prometheus re-sends firing alerts every minute), then
    # the whole picture.
    r2, t2 = [g() for g in rates], time.time()
    time.sleep(120)
    r3, t3 = [g() for g in rates], time.time()
    f["am_alerts_received_per_s_outage"] = [(b - a_) / (t3 - t2) for a_, b in zip(r2, r3)]
    after = {am["base"]: alerts_in(am) for am in ams}
    f["alerts_after_outage"] = {k: sorted((x["labels"]["alertname"], x["labels"]["instance"])
                                          for x in v) for k, v in after.items()}
    f["prometheus_alerts_after_outage"] = sorted(
        (x["metric"]["alertname"], x["metric"]["instance"], x["metric"]["alertstate"])
        for x in query(prom, "ALERTS"))
    expected = sorted(("INSTANCE_DOWN", n_) for n_ in names)
    ok = (all(v == expected for v in f["alerts_after_outage"].values())
          and f["prometheus_alerts_after_outage"] == sorted((a_, b, "firing") for a_, b in expected)
          and all(not v for v in f["alerts_before_outage"].values())
          and not f["prometheus_alerts_before_outage"])
    f["outage_check"] = "PASS" if ok else "FAIL"
    f["requests_sent"] = traffic.count
    f["run_seconds"] = time.time() - t_start
    f["machine"] = {"cpus": os.cpu_count(), "loadavg": os.getloadavg()}
    traffic.stop_flag = True
    report(f)
    if a.json:
        with open(a.json, "w") as out:
            json.dump(f, out, indent=2)
    if not ok:
        raise SystemExit("outage check failed: see alerts_after_outage above")


def enc_body_text(i):
    return http(i["base"] + "/metrics")[2]


def report(f):
    e = f["encodings"]
    mib = 1 << 20
    lines = [
        f"instances:                     {f['instances']}",
        f"samples per scrape:            {f['samples_per_scrape']:.0f} (max {f['samples_per_scrape_max']:.0f})",
        f"series per instance (head):    {f['series_per_instance']:.0f}",
        f"bytes per scrape, text:        {e['text']['bytes']}",
        f"bytes per scrape, gzip:        {e['text+gzip']['bytes'] if e['text+gzip']['served'] else 'not served'}"
        f" (gzip -6 of the text: {e['text+gzip']['gzip_of_text_bytes']})",
        f"bytes per scrape, protobuf:    {e['protobuf']['bytes'] if e['protobuf']['served'] else 'not served'}",
        f"scrape duration:               avg {f['scrape_duration_avg_s']*1e3:.2f} ms, max {f['scrape_duration_max_s']*1e3:.2f} ms",
        f"instance CPU per scrape:       {f['cpu_per_scrape_s']*1e3:.3f} ms (background {f['cpu_background_s_per_s']*100:.2f}% of a core)",
        f"prometheus RSS:                {f['prometheus_rss_bytes']/mib:.1f} MiB (baseline {f['prometheus_rss_baseline_bytes']/mib:.1f} MiB)"
        f" -> {f['prometheus_rss_per_instance_bytes']/1024:.0f} KiB per instance",
        f"prometheus heap in use:        {f['prometheus_heap_bytes']/mib:.1f} MiB (baseline {f['prometheus_heap_baseline_bytes']/mib:.1f} MiB)"
        f" -> {f['prometheus_heap_per_instance_bytes']/1024:.0f} KiB per instance, {f['prometheus_heap_per_series_bytes']:.0f} B per series",
        f"rule evaluation:               {f['rule_eval_total_s']*1e3:.2f} ms last round, mean {f['rule_eval_mean_s']*1e3:.2f} ms, {f['rules']:.0f} rules"
        f" (baseline, no target: {f['rule_eval_baseline_s']*1e3:.2f} ms)",
        f"  by group:                    " + ", ".join(f"{k} {v*1e3:.2f} ms" for k, v in f["rule_groups"].items()),
        f"alertmanager alerts received:  " + ", ".join(f"{r:.2f}/s" for r in f["am_alerts_received_per_s"])
        + " (quiet fleet); during the outage " + ", ".join(f"{r:.3f}/s" for r in f["am_alerts_received_per_s_outage"]),
        f"INSTANCE_DOWN in both AMs:     {f['instance_down_after_s']:.0f} s after the kill",
        f"after the outage (each AM):    {list(f['alerts_after_outage'].values())[0]}",
        f"outage check:                  {f['outage_check']}",
        f"run:                           {f['run_seconds']:.0f} s, {f['requests_sent']} requests, machine {f['machine']}",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
