//! What the alert engine and the page's history take from a reading: the alert
//! observations (over the window) and one history point (over the last interval).

use crate::alerts::engine::Observation;
use crate::alerts::levels::AlertType;
use crate::base::names::OpKind;
use crate::reading::Reading;
use crate::summary::history::Point;

impl Reading {
    /// The observations of one evaluation, over the window. A quantity with no data,
    /// or (for rates and latencies) with fewer than `min_samples` samples in the
    /// window, yields none.
    pub(crate) fn observations(&self, min_samples: u64) -> Vec<Observation> {
        let mut out = Vec::new();
        let mut push = |kind, component: &str, value: Option<f64>| {
            if let Some(value) = value.filter(|v| v.is_finite()) {
                out.push(Observation {
                    kind,
                    component: component.to_owned(),
                    value,
                });
            }
        };
        let enough = |n: u64| n > 0 && n >= min_samples;
        let w = &self.window;

        let http = self.http_agg(w);
        if enough(http.count) {
            push(AlertType::HighRequestLatency, "http", http.p95_seconds);
            push(AlertType::HighErrorRate, "http", http.error_rate());
        }
        let (calls, server_errors) = self.grpc_totals(w);
        if enough(calls) {
            push(
                AlertType::HighErrorRate,
                "grpc",
                Some(server_errors as f64 / calls as f64),
            );
        }
        let db = self.ops_agg(OpKind::Db, w);
        if enough(db.count) {
            push(AlertType::HighErrorRate, "database", db.error_rate());
        }
        let steps = self.ops_agg(OpKind::Step, w);
        if enough(steps.count) {
            push(AlertType::HighErrorRate, "workflows", steps.error_rate());
        }
        for (name, key) in &self.caches {
            let [hits, misses] = self.cache_since(*key, w);
            if enough(hits + misses) {
                push(
                    AlertType::LowCacheHitRatio,
                    &format!("cache:{name}"),
                    crate::base::format::hit_ratio(hits, misses),
                );
            }
        }
        let r = &self.resources;
        push(AlertType::HighCpuUsage, "system", r.cpu);
        push(AlertType::HighMemoryUsage, "system", r.memory);
        push(AlertType::HighSystemLoad, "system", r.load_per_core);
        for p in &self.pools {
            push(
                AlertType::HighDbPoolUtilization,
                &format!("db_pool:{}", p.name),
                p.utilization(),
            );
        }
        out
    }

    /// The history point of a reading whose window is the interval since the last
    /// tick.
    pub(crate) fn point(&self) -> Point {
        let http = self.http_agg(&self.window);
        let secs = self.window_span().as_secs_f64();
        let r = &self.resources;
        Point {
            t: self.unix_ms,
            interval_seconds: secs,
            requests: http.count,
            errors: http.failures,
            request_rate: if secs > 0.0 {
                http.count as f64 / secs
            } else {
                0.0
            },
            error_rate: http.error_rate(),
            p95_seconds: http.p95_seconds,
            cpu: r.cpu,
            memory: r.memory,
            load_per_core: r.load_per_core,
            process_resident_bytes: r.process_resident_bytes,
            cache_hit_ratio: self.cache_hit_ratio(&self.window),
            pool_utilization: self.pool_utilization(),
        }
    }
}
