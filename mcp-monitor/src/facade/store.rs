//! The application's own `metrics` series, behind a cardinality firewall.
//!
//! Each series is a few atomics, found by its `metrics::Key` under a read lock (the
//! `metrics` macros register on every call unless the application keeps the handle).
//! A metric name holds at most `MCP_METRIC_MAX_SERIES` label sets; a registration
//! beyond that gets the name's overflow series (same label names, every value
//! `overflow`), and each observation made through it also counts in
//! `mcp_metric_overflow_total{metric}`. So a label taken from user input cannot grow
//! memory without bound, and nothing recorded is lost from the totals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock};

use metrics::{Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key};

use std::sync::atomic::AtomicBool;

use crate::base::diagnostic::diagnostic;

/// The label value of every label of an overflow series.
pub const OVERFLOW_VALUE: &str = "overflow";

/// What kind of metric a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// A distribution over buckets.
    Histogram,
}

impl MetricKind {
    /// The Prometheus `# TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

#[derive(Debug, Default)]
struct CounterCell(AtomicU64);

impl CounterFn for CounterCell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Relaxed);
    }
}

#[derive(Debug, Default)]
struct GaugeCell(AtomicU64);

impl GaugeCell {
    fn update(&self, f: impl Fn(f64) -> f64) {
        let _ = self
            .0
            .fetch_update(Relaxed, Relaxed, |b| Some(f(f64::from_bits(b)).to_bits()));
    }
}

impl GaugeFn for GaugeCell {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }
    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }
    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Relaxed);
    }
}

#[derive(Debug)]
struct HistogramCell {
    bounds: Arc<[f64]>,
    /// Per bucket (not cumulative), the last one `+Inf`.
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl HistogramCell {
    fn new(bounds: Arc<[f64]>) -> Self {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Self {
            bounds,
            counts,
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }
}

impl HistogramFn for HistogramCell {
    fn record(&self, value: f64) {
        if value.is_nan() {
            return;
        }
        let i = self.bounds.partition_point(|&b| b < value);
        self.counts[i].fetch_add(1, Relaxed);
        let _ = self.sum.fetch_update(Relaxed, Relaxed, |b| {
            Some((f64::from_bits(b) + value).to_bits())
        });
    }
}

#[derive(Debug, Clone)]
enum Cell {
    Counter(Arc<CounterCell>),
    Gauge(Arc<GaugeCell>),
    Histogram(Arc<HistogramCell>),
}

impl Cell {
    fn new(kind: MetricKind, bounds: &Arc<[f64]>) -> Self {
        match kind {
            MetricKind::Counter => Self::Counter(Arc::default()),
            MetricKind::Gauge => Self::Gauge(Arc::default()),
            MetricKind::Histogram => Self::Histogram(Arc::new(HistogramCell::new(bounds.clone()))),
        }
    }

    fn kind(&self) -> MetricKind {
        match self {
            Self::Counter(_) => MetricKind::Counter,
            Self::Gauge(_) => MetricKind::Gauge,
            Self::Histogram(_) => MetricKind::Histogram,
        }
    }

    fn value(&self) -> MetricValue {
        match self {
            Self::Counter(c) => MetricValue::Counter(c.0.load(Relaxed)),
            Self::Gauge(g) => MetricValue::Gauge(f64::from_bits(g.0.load(Relaxed))),
            Self::Histogram(h) => MetricValue::Histogram(HistogramValue {
                bounds: h.bounds.clone(),
                counts: h.counts.iter().map(|c| c.load(Relaxed)).collect(),
                sum: f64::from_bits(h.sum.load(Relaxed)),
            }),
        }
    }
}

/// A series of the overflow: records into it and counts the observation.
#[derive(Debug)]
struct Overflowing<C> {
    cell: Arc<C>,
    overflowed: Arc<AtomicU64>,
}

impl<C: CounterFn> CounterFn for Overflowing<C> {
    fn increment(&self, value: u64) {
        self.cell.increment(value);
        self.overflowed.fetch_add(1, Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.cell.absolute(value);
        self.overflowed.fetch_add(1, Relaxed);
    }
}

impl<C: GaugeFn> GaugeFn for Overflowing<C> {
    fn increment(&self, value: f64) {
        self.cell.increment(value);
        self.overflowed.fetch_add(1, Relaxed);
    }
    fn decrement(&self, value: f64) {
        self.cell.decrement(value);
        self.overflowed.fetch_add(1, Relaxed);
    }
    fn set(&self, value: f64) {
        self.cell.set(value);
        self.overflowed.fetch_add(1, Relaxed);
    }
}

impl<C: HistogramFn> HistogramFn for Overflowing<C> {
    fn record(&self, value: f64) {
        self.cell.record(value);
        self.overflowed.fetch_add(1, Relaxed);
    }
}

/// What the store keeps of one metric name.
#[derive(Debug)]
struct Name {
    kind: MetricKind,
    label_sets: usize,
    overflowed: Arc<AtomicU64>,
    /// Overflow series by their label names (bounded by the program's source).
    overflow: Vec<(Vec<String>, Cell)>,
    /// Whether the overflow, and a recording of another kind, were reported.
    told_overflow: AtomicBool,
    told_kind: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    series: HashMap<Key, Cell>,
    names: HashMap<String, Name>,
    help: HashMap<String, String>,
}

/// The application's `metrics` series.
#[derive(Debug)]
pub(crate) struct FacadeStore {
    max_series: usize,
    bounds: Arc<[f64]>,
    state: RwLock<State>,
}

fn label_names(key: &Key) -> Vec<String> {
    key.labels().map(|l| l.key().to_owned()).collect()
}

impl FacadeStore {
    /// A store holding at most `max_series` label sets per name, whose histograms
    /// have the upper bounds `bounds`.
    pub(crate) fn new(max_series: usize, bounds: &[f64]) -> Self {
        Self {
            max_series,
            bounds: bounds.into(),
            state: RwLock::default(),
        }
    }

    /// Keeps `help` as the description of `name`.
    pub(crate) fn describe(&self, name: &str, help: &str) {
        let mut st = self.state.write().unwrap_or_else(PoisonError::into_inner);
        st.help.insert(name.to_owned(), help.to_owned());
    }

    pub(crate) fn counter(&self, key: &Key) -> Counter {
        match self.register(key, MetricKind::Counter) {
            Some((Cell::Counter(c), None)) => Counter::from_arc(c),
            Some((Cell::Counter(cell), Some(overflowed))) => {
                Counter::from_arc(Arc::new(Overflowing { cell, overflowed }))
            }
            _ => Counter::noop(),
        }
    }

    pub(crate) fn gauge(&self, key: &Key) -> Gauge {
        match self.register(key, MetricKind::Gauge) {
            Some((Cell::Gauge(g), None)) => Gauge::from_arc(g),
            Some((Cell::Gauge(cell), Some(overflowed))) => {
                Gauge::from_arc(Arc::new(Overflowing { cell, overflowed }))
            }
            _ => Gauge::noop(),
        }
    }

    pub(crate) fn histogram(&self, key: &Key) -> Histogram {
        match self.register(key, MetricKind::Histogram) {
            Some((Cell::Histogram(h), None)) => Histogram::from_arc(h),
            Some((Cell::Histogram(cell), Some(overflowed))) => {
                Histogram::from_arc(Arc::new(Overflowing { cell, overflowed }))
            }
            _ => Histogram::noop(),
        }
    }

    /// The cell of `key` (and, for an overflow series, the name's overflow count), or
    /// `None` when the name is already a metric of another kind.
    fn register(&self, key: &Key, kind: MetricKind) -> Option<(Cell, Option<Arc<AtomicU64>>)> {
        {
            let st = self.state.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(cell) = st.series.get(key) {
                return (cell.kind() == kind).then(|| (cell.clone(), None));
            }
            if let Some(name) = st.names.get(key.name()) {
                if name.kind != kind {
                    if !name.told_kind.swap(true, Relaxed) {
                        diagnostic!(metric = key.name(); "the metric {} is a {} and was recorded as a {}: those recordings are dropped; give them a name of their own", key.name(), name.kind.as_str(), kind.as_str());
                    }
                    return None;
                }
                if name.label_sets >= self.max_series {
                    let labels = label_names(key);
                    if let Some((_, cell)) = name.overflow.iter().find(|(k, _)| *k == labels) {
                        return Some((cell.clone(), Some(name.overflowed.clone())));
                    }
                }
            }
        }
        let mut st = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(cell) = st.series.get(key) {
            return (cell.kind() == kind).then(|| (cell.clone(), None));
        }
        let max = self.max_series;
        let bounds = self.bounds.clone();
        let name = st
            .names
            .entry(key.name().to_owned())
            .or_insert_with(|| Name {
                kind,
                label_sets: 0,
                overflowed: Arc::default(),
                overflow: Vec::new(),
                told_overflow: AtomicBool::new(false),
                told_kind: AtomicBool::new(false),
            });
        if name.kind != kind {
            return None;
        }
        if name.label_sets < max {
            name.label_sets += 1;
            let cell = Cell::new(kind, &bounds);
            st.series.insert(key.clone(), cell.clone());
            return Some((cell, None));
        }
        let labels = label_names(key);
        let overflowed = name.overflowed.clone();
        let tell = !name.told_overflow.swap(true, Relaxed);
        let cell = match name.overflow.iter().find(|(k, _)| *k == labels) {
            Some((_, cell)) => cell.clone(),
            None => {
                let cell = Cell::new(kind, &bounds);
                name.overflow.push((labels, cell.clone()));
                cell
            }
        };
        drop(st);
        if tell {
            diagnostic!(metric = key.name(); "the metric {} reached MCP_METRIC_MAX_SERIES ({max}) label sets: further label sets are recorded into one series whose label values are all \"overflow\" (counted in mcp_metric_overflow_total); a label probably takes its values from unbounded input", key.name());
        }
        Some((cell, Some(overflowed)))
    }

    /// Every family now, sorted by name, each series sorted by its labels.
    pub(crate) fn read(&self) -> Vec<MetricFamily> {
        let st = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let mut families: HashMap<String, MetricFamily> = st
            .names
            .iter()
            .map(|(n, name)| {
                let overflow = name.overflow.iter().map(|(keys, cell)| MetricSeries {
                    labels: keys
                        .iter()
                        .map(|k| (k.clone(), OVERFLOW_VALUE.to_owned()))
                        .collect(),
                    value: cell.value(),
                });
                let family = MetricFamily {
                    name: n.clone(),
                    kind: name.kind,
                    help: st.help.get(n).cloned(),
                    label_sets: name.label_sets,
                    overflowed: name.overflowed.load(Relaxed),
                    series: overflow.collect(),
                };
                (n.clone(), family)
            })
            .collect();
        for (key, cell) in &st.series {
            if let Some(f) = families.get_mut(key.name()) {
                f.series.push(MetricSeries {
                    labels: key
                        .labels()
                        .map(|l| (l.key().to_owned(), l.value().to_owned()))
                        .collect(),
                    value: cell.value(),
                });
            }
        }
        drop(st);
        let mut out: Vec<MetricFamily> = families.into_values().collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        for f in &mut out {
            f.series.sort_by(|a, b| a.labels.cmp(&b.labels));
        }
        out
    }
}

/// One of the application's metric names, read: see
/// [`Reading::metrics`](crate::Reading::metrics).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricFamily {
    /// The name as recorded.
    pub name: String,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The description given with `metrics::describe_*!`, if any.
    pub help: Option<String>,
    /// Label sets kept (at most `MCP_METRIC_MAX_SERIES`; the overflow series aside).
    pub label_sets: usize,
    /// Observations recorded into the overflow series (`mcp_metric_overflow_total`).
    pub overflowed: u64,
    /// The series, sorted by their labels.
    pub series: Vec<MetricSeries>,
}

/// One label set of an application metric, read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricSeries {
    /// Label names and values, in the order recorded.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: MetricValue,
}

impl MetricSeries {
    /// Whether the series has exactly these labels, in any order.
    pub(crate) fn has_labels(&self, labels: &[(&str, &str)]) -> bool {
        self.labels.len() == labels.len()
            && labels
                .iter()
                .all(|(k, v)| self.labels.iter().any(|(k2, v2)| k2 == k && v2 == v))
    }
}

/// The value of an application metric's series.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MetricValue {
    /// A counter's total.
    Counter(u64),
    /// A gauge's value.
    Gauge(f64),
    /// A histogram's buckets.
    Histogram(HistogramValue),
}

/// A histogram of the application's, read.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramValue {
    /// Upper bounds of the buckets (`+Inf` implied), the monitor's HTTP buckets
    /// (`MCP_HTTP_BUCKETS`).
    pub bounds: Arc<[f64]>,
    /// Observations per bucket, not cumulative; the last one is `+Inf`.
    pub counts: Vec<u64>,
    /// The sum of the observations.
    pub sum: f64,
}

impl HistogramValue {
    /// Observations recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The mean observation, if any.
    pub fn mean(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum / n as f64)
    }

    /// The `q` quantile, interpolated linearly inside its bucket: the true value lies
    /// in that bucket, so the error is at most the bucket's width. `None` without
    /// observations, or when the quantile falls in the `+Inf` bucket (it is then above
    /// the largest bound, which is all the buckets can say).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * n as f64;
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if c > 0 && (seen + c) as f64 >= rank {
                let upper = *self.bounds.get(i)?;
                let lower = if i == 0 {
                    0f64.min(upper)
                } else {
                    self.bounds[i - 1]
                };
                let within = ((rank - seen as f64) / c as f64).clamp(0.0, 1.0);
                return Some(lower + (upper - lower) * within);
            }
            seen += c;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &'static str, labels: &[(&'static str, String)]) -> Key {
        let labels: Vec<metrics::Label> = labels
            .iter()
            .map(|(k, v)| metrics::Label::new(*k, v.clone()))
            .collect();
        Key::from_parts(name, labels)
    }

    #[test]
    fn a_flood_of_label_values_stays_at_the_limit_and_loses_no_count() {
        let store = FacadeStore::new(100, &[1.0]);
        for i in 0..10_000 {
            store
                .counter(&key("logins", &[("user", i.to_string())]))
                .increment(2);
        }
        let f = &store.read()[0];
        assert_eq!((f.label_sets, f.series.len()), (100, 101));
        assert_eq!(f.overflowed, 9_900);
        let total: u64 = f
            .series
            .iter()
            .map(|s| match s.value {
                MetricValue::Counter(v) => v,
                _ => unreachable!(),
            })
            .sum();
        assert_eq!(total, 20_000, "nothing lost from the counts");
        let overflow = f
            .series
            .iter()
            .find(|s| s.has_labels(&[("user", OVERFLOW_VALUE)]))
            .unwrap();
        assert_eq!(overflow.value, MetricValue::Counter(19_800));
    }

    #[test]
    fn gauges_histograms_and_a_name_of_two_kinds() {
        let store = FacadeStore::new(10, &[0.1, 1.0]);
        let g = store.gauge(&key("queue", &[]));
        g.set(3.0);
        g.increment(1.5);
        g.decrement(0.5);
        let h = store.histogram(&key("size", &[("kind", "a".into())]));
        for v in [0.05, 0.5, 0.5, 5.0, f64::NAN] {
            h.record(v);
        }
        // "queue" is a gauge: a counter of the same name records nothing.
        store.counter(&key("queue", &[])).increment(7);
        let read = store.read();
        assert_eq!(read[0].name, "queue");
        assert_eq!(read[0].series[0].value, MetricValue::Gauge(4.0));
        let MetricValue::Histogram(h) = &read[1].series[0].value else {
            panic!("{read:?}")
        };
        assert_eq!((h.counts.as_slice(), h.sum), (&[1, 2, 1][..], 6.05));
        assert_eq!(h.quantile(0.5), Some(0.55));
        assert_eq!(h.quantile(1.0), None, "above the largest bound");
    }

    #[test]
    fn counters_take_absolute_values_as_a_maximum() {
        let store = FacadeStore::new(10, &[1.0]);
        let c = store.counter(&key("bytes", &[]));
        c.absolute(10);
        c.absolute(4);
        c.increment(1);
        assert_eq!(store.read()[0].series[0].value, MetricValue::Counter(11));
    }
}
