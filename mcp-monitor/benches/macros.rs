//! Per-call cost of the instrumentation macros against the floor and against peers.
//!
//! Every variant is the same trivial `async fn` (it returns `Ok(black_box(x))`), driven
//! by the same minimal executor: a loop that polls with a no-op waker, so no runtime
//! overhead hides the difference. Our recorder is installed once in `main`, so the
//! `metrics` facade variants and `#[autometrics]` (its `metrics-0_24` backend) record
//! into a real Prometheus recorder too.
//!
//! * `macro/single/*`: one thread. `mcp_monitor_impl_future` and `mcp_monitor_boxed` are
//!   the future-returning shapes (`-> impl Future`, and `-> Pin<Box<dyn Future>>` as
//!   `async-trait` writes it), the latter against `floor_boxed`, the floor in a box.
//! * `macro/two_threads/*`: two threads call the same call site (the same series) after a
//!   barrier; the time reported is wall time divided by the calls each thread made, i.e.
//!   nanoseconds per call per thread, comparable with the single-thread figure.
//!
//! * After criterion, interleaved ratios to the floor: the targets above; what native
//!   histograms cost a monitored call against the recording the crate had before them
//!   (`floor_native` and `floor_classic`: the floor's clock reads, then a call site's
//!   histogram recorded with native buckets, or as before native histograms, both in
//!   the same run, one and two threads); then our macro
//!   with a trace context current (`mcp_monitor::trace::in_context`, so every call
//!   also stores an exemplar), and, built with `--features tracing`, with a subscriber
//!   that records the call's span (`tracing_subscriber::registry()`); with
//!   `--features opentelemetry`, also with a `tracing-opentelemetry` layer over an
//!   in-process `opentelemetry_sdk` tracer (sampled, no exporter). Built with a
//!   feature, every figure before those is the feature with no subscriber.
//!
//! Run with `cargo bench -p mcp-monitor --bench macros` (add `--features tracing` or
//! `--features opentelemetry`); see `docs/benchmarks.md`.

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Barrier, LazyLock, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use autometrics::autometrics;
use criterion::Criterion;
use mcp_monitor::__private::{BenchClassicHistogram, BenchHistogram};
use mcp_monitor::{monitor_db_operation, Buckets, Monitor};
use metrics::{counter, histogram, Counter, Histogram};

/// The error type of every variant (never returned).
#[derive(Debug)]
struct BenchError;

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bench error")
    }
}

impl std::error::Error for BenchError {}

type BenchResult = Result<u64, BenchError>;

/// Drives a future to completion on this thread. The futures here complete on their
/// first poll; the loop is only there to be correct if one did not.
#[inline(always)]
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The variants.

/// No instrumentation.
#[inline(never)]
async fn bare(x: u64) -> BenchResult {
    Ok(black_box(x))
}

static FLOOR: AtomicU64 = AtomicU64::new(0);

/// The floor: two clock reads and one relaxed atomic add.
#[inline(never)]
async fn floor(x: u64) -> BenchResult {
    let start = Instant::now();
    let out = Ok(black_box(x));
    FLOOR.fetch_add(start.elapsed().as_nanos() as u64, Relaxed);
    out
}

/// The histogram a `#[monitor_db_operation]` call site keeps (native and classic
/// buckets, striped, three outcomes), recorded by hand after the floor's clock reads.
static NATIVE: LazyLock<BenchHistogram> =
    LazyLock::new(|| BenchHistogram::new(Buckets::db_default()));

/// The same buckets recorded as the crate did before native histograms (classic
/// bucket counters only; a copy of that code kept in the crate for this baseline).
static CLASSIC: LazyLock<BenchClassicHistogram> =
    LazyLock::new(|| BenchClassicHistogram::new(&Buckets::db_default()));

/// The floor's clock reads, then a macro's histogram recording with native buckets.
#[inline(never)]
async fn floor_native(x: u64) -> BenchResult {
    let start = Instant::now();
    let out = Ok(black_box(x));
    NATIVE.record_ns(start.elapsed().as_nanos() as u64);
    out
}

/// The floor's clock reads, then the pre-native recording (classic buckets only).
#[inline(never)]
async fn floor_classic(x: u64) -> BenchResult {
    let start = Instant::now();
    let out = Ok(black_box(x));
    CLASSIC.record_ns(start.elapsed().as_nanos() as u64);
    out
}

/// Our macro.
#[inline(never)]
#[monitor_db_operation("select", "bench")]
async fn mcp_monitor(x: u64) -> BenchResult {
    Ok(black_box(x))
}

/// Our macro on a function returning `impl Future` (wrapped once, unboxed).
#[inline(never)]
#[monitor_db_operation("select", "bench_impl_future")]
fn mcp_monitor_impl_future(x: u64) -> impl Future<Output = BenchResult> {
    async move { Ok(black_box(x)) }
}

/// The boxed floor: what an `async-trait` method pays without instrumentation (one
/// `Box::pin`), plus the floor's two clock reads and atomic add.
#[inline(never)]
fn floor_boxed(x: u64) -> Pin<Box<dyn Future<Output = BenchResult> + Send>> {
    Box::pin(async move {
        let start = Instant::now();
        let out = Ok(black_box(x));
        FLOOR.fetch_add(start.elapsed().as_nanos() as u64, Relaxed);
        out
    })
}

/// Our macro on the `async-trait` shape: `Pin<Box<dyn Future>>` with a `Box::pin(..)`
/// body (the wrapper is boxed in the future's place, not boxed again).
#[inline(never)]
#[monitor_db_operation("select", "bench_boxed")]
fn mcp_monitor_boxed(x: u64) -> Pin<Box<dyn Future<Output = BenchResult> + Send>> {
    Box::pin(async move { Ok(black_box(x)) })
}

/// The `metrics` facade written by hand: `counter!` and `histogram!` on every call.
#[inline(never)]
async fn facade_per_call(x: u64) -> BenchResult {
    let start = Instant::now();
    let out = Ok(black_box(x));
    let status = if out.is_ok() { "success" } else { "failure" };
    counter!(
        "bench_facade_per_call_total",
        "operation" => "select",
        "table" => "bench",
        "status" => status
    )
    .increment(1);
    histogram!(
        "bench_facade_per_call_duration_seconds",
        "operation" => "select",
        "table" => "bench"
    )
    .record(start.elapsed().as_secs_f64());
    out
}

/// The `metrics` facade with its handles registered once and cached in a `OnceLock`.
struct CachedHandles {
    success: Counter,
    failure: Counter,
    duration: Histogram,
}

static CACHED: OnceLock<CachedHandles> = OnceLock::new();

fn cached_handles() -> &'static CachedHandles {
    CACHED.get_or_init(|| CachedHandles {
        success: counter!(
            "bench_facade_cached_total",
            "operation" => "select",
            "table" => "bench",
            "status" => "success"
        ),
        failure: counter!(
            "bench_facade_cached_total",
            "operation" => "select",
            "table" => "bench",
            "status" => "failure"
        ),
        duration: histogram!(
            "bench_facade_cached_duration_seconds",
            "operation" => "select",
            "table" => "bench"
        ),
    })
}

#[inline(never)]
async fn facade_cached(x: u64) -> BenchResult {
    let handles = cached_handles();
    let start = Instant::now();
    let out = Ok(black_box(x));
    if out.is_ok() {
        handles.success.increment(1);
    } else {
        handles.failure.increment(1);
    }
    handles.duration.record(start.elapsed().as_secs_f64());
    out
}

/// `#[autometrics]` from crates.io, `metrics-0_24` backend.
#[inline(never)]
#[autometrics]
async fn autometrics_fn(x: u64) -> BenchResult {
    Ok(black_box(x))
}

// ---------------------------------------------------------------------------------------
// The harness.

macro_rules! call {
    ($f:ident) => {
        |b: &mut criterion::Bencher<'_>| {
            let mut i = 0u64;
            b.iter(|| {
                i = i.wrapping_add(1);
                black_box(block_on($f(black_box(i)))).ok()
            })
        }
    };
}

fn single(c: &mut Criterion) {
    let mut g = c.benchmark_group("macro/single");
    g.bench_function("bare", call!(bare));
    g.bench_function("floor", call!(floor));
    g.bench_function("mcp_monitor", call!(mcp_monitor));
    g.bench_function("mcp_monitor_impl_future", call!(mcp_monitor_impl_future));
    g.bench_function("floor_boxed", call!(floor_boxed));
    g.bench_function("mcp_monitor_boxed", call!(mcp_monitor_boxed));
    g.bench_function("facade_per_call", call!(facade_per_call));
    g.bench_function("facade_cached", call!(facade_cached));
    g.bench_function("autometrics", call!(autometrics_fn));
    g.finish();
}

/// Runs `iters` calls of `f` on each of two threads at once; returns the wall time
/// from the first thread starting to the last one finishing.
fn two_threads<F, Fut>(iters: u64, f: F) -> Duration
where
    F: Fn(u64) -> Fut + Sync,
    Fut: Future<Output = BenchResult>,
{
    let barrier = Barrier::new(2);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        black_box(block_on(f(black_box(i)))).ok();
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("bench thread panicked"))
            .collect()
    });
    let first = spans.iter().map(|s| s.0).min().expect("two spans");
    let last = spans.iter().map(|s| s.1).max().expect("two spans");
    last - first
}

fn contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("macro/two_threads");
    g.bench_function("floor", |b| b.iter_custom(|n| two_threads(n, floor)));
    g.bench_function("mcp_monitor", |b| {
        b.iter_custom(|n| two_threads(n, mcp_monitor))
    });
    g.bench_function("facade_cached", |b| {
        b.iter_custom(|n| two_threads(n, facade_cached))
    });
    g.bench_function("facade_per_call", |b| {
        b.iter_custom(|n| two_threads(n, facade_per_call))
    });
    g.finish();
}

/// Runs `n` calls of `f` on this thread; returns the elapsed time.
fn one_thread<F, Fut>(n: u64, f: F) -> Duration
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = BenchResult>,
{
    let start = Instant::now();
    for i in 0..n {
        black_box(block_on(f(black_box(i)))).ok();
    }
    start.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The target ratios measured in alternation: each round times a block of the floor
/// and of our macro, on one thread and on two, back to back, so that the machine's
/// drift (it is shared and its speed changes from minute to minute) hits them alike.
/// Prints the median over rounds of each ratio.
fn interleaved() {
    const CALLS: u64 = 20_000;
    const ROUNDS: usize = 41;
    let (mut single, mut two_vs_single, mut two_vs_two) = (Vec::new(), Vec::new(), Vec::new());
    let (mut impl_future, mut boxed) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let floor1 = one_thread(CALLS, floor).as_secs_f64();
        let ours1 = one_thread(CALLS, mcp_monitor).as_secs_f64();
        let impl1 = one_thread(CALLS, mcp_monitor_impl_future).as_secs_f64();
        let floor_boxed1 = one_thread(CALLS, floor_boxed).as_secs_f64();
        let boxed1 = one_thread(CALLS, mcp_monitor_boxed).as_secs_f64();
        impl_future.push(impl1 / floor1);
        boxed.push(boxed1 / floor_boxed1);
        let floor2 = two_threads(CALLS, floor).as_secs_f64();
        let ours2 = two_threads(CALLS, mcp_monitor).as_secs_f64();
        single.push(ours1 / floor1);
        two_vs_single.push(ours2 / floor1);
        two_vs_two.push(ours2 / floor2);
    }
    println!(
        "interleaved, median of {ROUNDS} rounds of {CALLS} calls: \
         mcp_monitor / floor = {:.2} (one thread); \
         mcp_monitor with two threads / floor with one = {:.2}; \
         mcp_monitor / floor, both with two threads = {:.2}; \
         impl Future shape / floor = {:.2}; \
         boxed (async-trait) shape / boxed floor = {:.2}",
        median(single),
        median(two_vs_single),
        median(two_vs_two),
        median(impl_future),
        median(boxed),
    );
}

/// What native histograms cost a monitored call, against the recording the crate had
/// before them, in the same run: each round times our macro, the floor's clock reads
/// followed by the histogram recording with native buckets (`floor_native`) and by the
/// pre-native recording (`floor_classic`), on one thread and on two. The monitored
/// call as it was before native histograms costs `ours - floor_native + floor_classic`
/// (the same call with the older recording); prints the median ratio of ours to that.
fn native_against_classic() {
    const CALLS: u64 = 20_000;
    const ROUNDS: usize = 41;
    let (mut one, mut two, mut rec1, mut rec2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut ours_ns, mut native_ns, mut classic_ns) = (Vec::new(), Vec::new(), Vec::new());
    let per = |d: Duration| d.as_secs_f64() * 1e9 / CALLS as f64;
    for _ in 0..ROUNDS {
        let classic1 = per(one_thread(CALLS, floor_classic));
        let ours1 = per(one_thread(CALLS, mcp_monitor));
        let native1 = per(one_thread(CALLS, floor_native));
        let classic2 = per(two_threads(CALLS, floor_classic));
        let ours2 = per(two_threads(CALLS, mcp_monitor));
        let native2 = per(two_threads(CALLS, floor_native));
        one.push(ours1 / (ours1 - native1 + classic1));
        two.push(ours2 / (ours2 - native2 + classic2));
        rec1.push(native1 / classic1);
        rec2.push(native2 / classic2);
        ours_ns.push(ours1);
        native_ns.push(native1);
        classic_ns.push(classic1);
    }
    println!(
        "interleaved, median of {ROUNDS} rounds of {CALLS} calls: native histograms: \
         monitored call / the same call with the pre-native recording = {:.2} (one thread), \
         {:.2} (two threads); floor + native recording / floor + pre-native recording = \
         {:.2} (one thread), {:.2} (two threads); ns/call: ours {:.1}, floor + native {:.1}, \
         floor + pre-native {:.1}",
        median(one),
        median(two),
        median(rec1),
        median(rec2),
        median(ours_ns),
        median(native_ns),
        median(classic_ns),
    );
    assert_eq!(NATIVE.count(), CLASSIC.count());
}

/// Our macro against the floor, interleaved as in [`interleaved`]: `ours` times
/// `CALLS` calls of our macro in whatever setting it makes. Prints the medians of the
/// floor's and our ns per call and of the ratio.
fn against_floor(name: &str, ours: impl Fn(u64) -> Duration) {
    const CALLS: u64 = 20_000;
    const ROUNDS: usize = 41;
    let (mut floor_ns, mut ours_ns, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let f = one_thread(CALLS, floor).as_secs_f64();
        let o = ours(CALLS).as_secs_f64();
        floor_ns.push(f * 1e9 / CALLS as f64);
        ours_ns.push(o * 1e9 / CALLS as f64);
        ratio.push(o / f);
    }
    println!(
        "interleaved, median of {ROUNDS} rounds of {CALLS} calls: {name}: \
         {:.1} ns/call, floor {:.1} ns/call, ratio {:.2}",
        median(ours_ns),
        median(floor_ns),
        median(ratio),
    );
}

/// The sampled trace of the "trace context current" variant.
fn bench_trace() -> mcp_monitor::trace::TraceContext {
    mcp_monitor::trace::TraceContext::from_traceparent(
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    .expect("a valid traceparent")
}

/// With `--features tracing`: the span of each call recorded by a subscriber.
#[cfg(feature = "tracing")]
fn with_subscribers() {
    use tracing_subscriber::layer::SubscriberExt as _;

    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        against_floor(
            "mcp_monitor, span recorded by tracing_subscriber::registry()",
            |n| one_thread(n, mcp_monitor),
        );
    });

    #[cfg(feature = "opentelemetry")]
    {
        use opentelemetry::trace::TracerProvider as _;

        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
        tracing::subscriber::with_default(subscriber, || {
            against_floor(
                "mcp_monitor, span exported to OpenTelemetry (registry + tracing-opentelemetry, sampled, no exporter), exemplar from its context",
                |n| one_thread(n, mcp_monitor),
            );
        });
    }
}

fn main() {
    let monitor = Monitor::builder()
        .install()
        .expect("no other recorder is installed in the bench");

    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
        .configure_from_args();
    single(&mut c);
    contended(&mut c);
    c.final_summary();
    interleaved();
    native_against_classic();
    against_floor("mcp_monitor, no trace context", |n| {
        one_thread(n, mcp_monitor)
    });
    against_floor(
        "mcp_monitor, trace context current (in_context), exemplar per call",
        |n| mcp_monitor::trace::in_context(bench_trace(), || one_thread(n, mcp_monitor)),
    );
    // Checked before the OpenTelemetry variant replaces the exemplars.
    let trace_id = bench_trace().trace_id();
    assert!(
        monitor
            .render_openmetrics()
            .lines()
            .any(|l| l.contains("table=\"bench\"") && l.contains(&trace_id)),
        "the traced calls left no exemplar"
    );
    #[cfg(feature = "tracing")]
    with_subscribers();

    // Every variant recorded into a live recorder: check that ours did.
    let text = monitor.render();
    assert!(
        text.contains(
            "mcp_db_operations_total{operation=\"select\",table=\"bench\",status=\"success\"}"
        ),
        "our series is missing from the exposition"
    );

    black_box(FLOOR.load(Relaxed));
}
