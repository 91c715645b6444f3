//! The quantiles people read are within 5% of the exact quantiles of the same calls.
//!
//! Known durations go through the recording paths the guards use (`OpSeries::record`,
//! what a macro guard's `Drop` calls, and `HttpStore::record`, what the HTTP layer's
//! guard calls), so nothing depends on the machine's timing. Each distribution is
//! recorded in two phases a window apart: "since reset" covers both, "over the window"
//! the second. Every figure a person reads is checked against the exact nearest-rank
//! quantile: `Calls::quantile`, `Requests::quantile`, `/metrics/summary` (both
//! periods), the `HIGH_REQUEST_LATENCY` observation and the page's history point.
//! `cargo test -p mcp-monitor --lib accuracy -- --nocapture` prints the table of
//! docs/benchmarks.md (exact, before: classic buckets interpolated, after: native).

use std::time::Duration;

use super::Monitor;
use crate::alerts::levels::AlertType;
use crate::base::names::OpKind;
use crate::base::native::nearest_rank;
use crate::calls::outcome::Status;
use crate::calls::registry::registry;
use crate::http::store::MethodLabel;
use crate::output::json::summary_document;

const WINDOW: Duration = Duration::from_secs(60);
/// The error bound at schema 3: `2^(1/16) - 1`.
const BOUND: f64 = 0.044_273_782_427_413_84;

/// A deterministic generator (SplitMix64), so that the test is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// One duration in nanoseconds from the distribution `name`.
fn draw(name: &str, rng: &mut Rng) -> u64 {
    let seconds = match name {
        // Median 20 ms, sigma 0.6.
        "lognormal" => (0.02f64.ln() + 0.6 * rng.normal()).exp(),
        // 70% around 5 ms, 30% around 80 ms.
        "bimodal" => {
            if rng.unit() < 0.7 {
                0.005 + 0.0005 * rng.normal()
            } else {
                0.08 + 0.008 * rng.normal()
            }
        }
        "uniform" => 0.001 + 0.049 * rng.unit(),
        // Slow calls: around 150 ms, never under 100 ms.
        "slow" => (0.15 + 0.015 * rng.normal()).max(0.1),
        other => unreachable!("{other}"),
    };
    (seconds.max(1e-6) * 1e9) as u64
}

fn exact(sorted: &[u64], q: f64) -> f64 {
    sorted[nearest_rank(q, sorted.len() as u64) as usize - 1] as f64 / 1e9
}

fn check(what: &str, shown: Option<f64>, exact: f64) {
    let shown = shown.unwrap_or_else(|| panic!("{what}: no value"));
    let error = shown / exact - 1.0;
    assert!(
        error.abs() <= BOUND + 1e-9,
        "{what}: shown {shown} s, exact {exact} s ({:+.2}%)",
        error * 100.0
    );
}

fn duration_s(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64())
}

/// The `p95_seconds` of `section` (`total` or `window`) of the entry of the list at
/// the JSON pointer `list` whose `key` is `value`.
fn summary_p95(doc: &serde_json::Value, list: &str, key: &str, value: &str, section: &str) -> f64 {
    let entry = doc
        .pointer(list)
        .and_then(|l| l.as_array())
        .and_then(|a| a.iter().find(|e| e[key] == value))
        .unwrap_or_else(|| panic!("no {list} entry {key}={value} in {doc}"));
    entry[section]["p95_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("no p95 in {entry}"))
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn quantiles_people_read_are_within_five_percent() {
    let mut table = Vec::new();
    for (n, name) in ["lognormal", "bimodal", "uniform", "slow"]
        .into_iter()
        .enumerate()
    {
        let monitor = Monitor::builder().with_window(WINDOW).build().unwrap();
        let http = monitor.http_store().clone();
        let table_label = format!("accuracy_{name}");
        let op = registry().op_series(OpKind::Db, ["accuracy", Box::leak(table_label.into())]);
        let path = format!("/accuracy/{name}");
        let before = monitor.read();
        let mut rng = Rng(0x5EED + n as u64);
        let mut record = |count: usize, into: &mut Vec<u64>| {
            for _ in 0..count {
                let ns = draw(name, &mut rng);
                op.record(Status::Success, ns);
                http.record(MethodLabel::Get, &path, 200, ns);
                into.push(ns);
            }
        };
        // Phase A, then a window later phase B.
        let mut all = Vec::new();
        record(600, &mut all);
        tokio::time::advance(WINDOW + Duration::from_secs(1)).await;
        monitor.tick();
        let mut window = Vec::new();
        record(1200, &mut window);
        tokio::time::advance(WINDOW).await;
        all.extend_from_slice(&window);
        all.sort_unstable();
        window.sort_unstable();

        let r = monitor.read();
        let calls = r.since(&before).db("accuracy", &format!("accuracy_{name}"));
        let requests = r.route("GET", &path);
        assert_eq!(calls.total(), 1800);
        assert_eq!(requests.total(), 1800);
        let doc = summary_document(&r, monitor.settings());
        let classic = r
            .http_since(
                r.http_series()
                    .iter()
                    .find(|s| *s.path == path)
                    .unwrap()
                    .index,
                &r.reset,
            )
            .clone();
        for q in [0.5, 0.95, 0.99] {
            let e = exact(&all, q);
            check(
                &format!("{name} Calls p{q}"),
                duration_s(calls.quantile(q)),
                e,
            );
            check(
                &format!("{name} Requests p{q}"),
                duration_s(requests.quantile(q)),
                e,
            );
            table.push((
                name,
                q,
                e,
                classic
                    .classic_quantile_seconds(&r.http.buckets, q)
                    .unwrap(),
                requests.quantile(q).unwrap().as_secs_f64(),
            ));
        }
        let (e_all, e_window) = (exact(&all, 0.95), exact(&window, 0.95));
        check(&format!("{name} Calls p95"), duration_s(calls.p95()), e_all);
        check(
            &format!("{name} Requests p95"),
            duration_s(requests.p95()),
            e_all,
        );
        for (section, e) in [("total", e_all), ("window", e_window)] {
            let what = format!("{name} /metrics/summary {section}");
            let db = summary_p95(&doc, "/db", "table", &format!("accuracy_{name}"), section);
            check(&format!("{what} db"), Some(db), e);
            check(
                &format!("{what} http"),
                Some(summary_p95(&doc, "/http/series", "path", &path, section)),
                e,
            );
        }
        let latency = r
            .observations(1)
            .into_iter()
            .find(|o| o.kind == AlertType::HighRequestLatency)
            .map(|o| o.value);
        check(&format!("{name} HIGH_REQUEST_LATENCY"), latency, e_window);
        // The history point of the interval since the last tick: phase B.
        monitor.tick();
        let point = monitor.read().history.0.last().and_then(|p| p.p95_seconds);
        check(&format!("{name} history point"), point, e_window);
    }
    println!("| distribution | quantile | exact | before (classic buckets) | error | after (native) | error |");
    println!("|---|---|---|---|---|---|---|");
    for (name, q, e, before, after) in table {
        println!(
            "| {name} | p{} | {:.2} ms | {:.2} ms | {:+.1}% | {:.2} ms | {:+.1}% |",
            q * 100.0,
            e * 1e3,
            before * 1e3,
            (before / e - 1.0) * 100.0,
            after * 1e3,
            (after / e - 1.0) * 100.0
        );
    }
}
