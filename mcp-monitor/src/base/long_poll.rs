//! The long-poll watcher: finds the monitored calls whose single poll holds its thread
//! longer than `MCP_LONG_POLL_THRESHOLD` (a blocked executor), for
//! `mcp_long_polls_total{kind,name}`.
//!
//! A recording path times each poll of its future with a [`Watch`] (two readings of
//! the coarse clock, [`crate::base::clock::coarse_ns`], one relaxed load each) and
//! hands it to [`LongPolls::finish`] with its kind and a closure that names the call:
//! the name is made, and the lock taken, only for a poll longer than the threshold.
//! The macro sites (`db`, `step`, `run`) report to the process-wide [`global`] store,
//! as their series are process-wide; a layer (`http`, `grpc`) to its monitor's own.
//!
//! A synchronous monitored call is one poll, the whole call. It counts
//! ([`LongPolls::check_sync`]) when it runs inside a watched poll (an HTTP request, a
//! gRPC call or an async monitored call being polled on this thread): then it holds an
//! executor thread, and it is named beside the poll it blocked. On a blocking thread
//! (`spawn_blocking`) or a thread of its own it blocks no executor and is not counted.
//!
//! Memory: one entry per (kind, name), at most [`MAX_SITES`] per store; a further
//! site is counted under the name [`OVERFLOW_NAME`] of its kind. Each site is logged
//! once, at its first long poll, through [`crate::base::diagnostic`] (a warning through
//! `tracing`, or once on stderr when no subscriber is installed: a blocked executor
//! must reach a person, and the number of messages is bounded by the sites).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::base::clock::{coarse_ns, keep_coarse};
use crate::base::diagnostic::diagnostic;
use crate::base::names::LONG_POLL_KINDS;

/// The most sites one store keeps; further ones are counted under [`OVERFLOW_NAME`].
pub(crate) const MAX_SITES: usize = 1000;
/// The `name` of the long polls of sites past [`MAX_SITES`].
pub(crate) const OVERFLOW_NAME: &str = "overflow";

/// What kind of call a poll belongs to: the `kind` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum PollKind {
    /// `#[monitor_db_operation]`.
    Db,
    /// `#[monitor_workflow_step]`.
    Step,
    /// `#[monitor_workflow]`.
    Run,
    /// An HTTP request under the layer.
    Http,
    /// A gRPC call under the gRPC layer.
    Grpc,
}

impl PollKind {
    /// The `kind` label value.
    pub(crate) fn as_str(self) -> &'static str {
        LONG_POLL_KINDS[self as usize]
    }
}

/// The long polls of one call site, as a [`Reading`](crate::Reading) reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LongPoll {
    /// `db`, `step`, `run`, `http` or `grpc`.
    pub kind: &'static str,
    /// The call's labels as a person writes them: `select users`, `data_processing
    /// validation`, `GET /users/{id}`; `overflow` for sites past the store's limit.
    pub name: String,
    /// Polls longer than the threshold, since the process (macro sites) or the monitor
    /// (HTTP, gRPC) started: the value of `mcp_long_polls_total`.
    pub count: u64,
    /// The longest of them (measured with the coarse clock: within one tick, a tenth
    /// of the threshold, of the true duration).
    pub longest: Duration,
}

/// What a store remembers of one site.
#[derive(Debug, Clone, Copy)]
struct Site {
    count: u64,
    longest_ns: u64,
}

/// The long polls of a store's sites; see the module docs.
#[derive(Debug)]
pub(crate) struct LongPolls {
    /// Polls longer than this count; `u64::MAX` (no monitor yet): none does.
    threshold_ns: AtomicU64,
    sites: Mutex<BTreeMap<(PollKind, Box<str>), Site>>,
}

thread_local! {
    /// Watched polls running on this thread (nested: a request polls a monitored call).
    static WATCHED: Cell<u32> = const { Cell::new(0) };
}

/// The process-wide store of the macro sites (`db`, `step`, `run`): counts nothing
/// until a monitor is built and sets its threshold.
pub(crate) fn global() -> &'static LongPolls {
    static GLOBAL: LongPolls = LongPolls::off();
    &GLOBAL
}

impl Default for LongPolls {
    /// A store that counts nothing until [`set_threshold`](Self::set_threshold).
    fn default() -> Self {
        Self::off()
    }
}

impl LongPolls {
    /// A store that counts nothing until [`set_threshold`](Self::set_threshold).
    const fn off() -> Self {
        Self {
            threshold_ns: AtomicU64::new(u64::MAX),
            sites: Mutex::new(BTreeMap::new()),
        }
    }

    /// A store counting polls longer than `threshold`; starts the coarse clock.
    pub(crate) fn new(threshold: Duration) -> Self {
        let store = Self::off();
        store.set_threshold(threshold);
        store
    }

    /// Counts polls longer than `threshold` from now on, with the coarse clock ticking
    /// at least every tenth of it.
    pub(crate) fn set_threshold(&self, threshold: Duration) {
        keep_coarse(threshold / 10);
        let ns = u64::try_from(threshold.as_nanos()).unwrap_or(u64::MAX - 1);
        self.threshold_ns.store(ns, Relaxed);
    }

    /// Ends a watched poll of the call `kind` `name`: counts it if it was longer than
    /// the threshold (`name` is called only then).
    #[inline]
    pub(crate) fn finish(&self, watch: Watch, kind: PollKind, name: impl FnOnce() -> String) {
        let ns = watch.elapsed_ns();
        drop(watch);
        if ns > self.threshold_ns.load(Relaxed) {
            self.record(kind, name(), ns);
        }
    }

    /// Ends a synchronous call of `kind` `name` that took `ns`: counts it if it was
    /// longer than the threshold while a watched poll runs on this thread (see the
    /// module docs).
    #[inline]
    pub(crate) fn check_sync(&self, ns: u64, kind: PollKind, name: impl FnOnce() -> String) {
        if ns > self.threshold_ns.load(Relaxed) && WATCHED.with(Cell::get) > 0 {
            self.record(kind, name(), ns);
        }
    }

    /// Counts one long poll of `ns` at the site `kind` `name`; logs the site's first.
    #[cold]
    #[inline(never)]
    pub(crate) fn record(&self, kind: PollKind, name: String, ns: u64) {
        let new = {
            let mut sites = self.sites.lock().unwrap_or_else(PoisonError::into_inner);
            let key = (kind, name.into_boxed_str());
            let key = if sites.len() >= MAX_SITES && !sites.contains_key(&key) {
                (kind, OVERFLOW_NAME.into())
            } else {
                key
            };
            let mut new = None;
            let site = sites.entry(key).or_insert_with_key(|(kind, name)| {
                new = Some((*kind, name.to_string()));
                Site {
                    count: 0,
                    longest_ns: 0,
                }
            });
            site.count += 1;
            site.longest_ns = site.longest_ns.max(ns);
            new
        };
        if let Some((kind, name)) = new {
            self.log(kind, &name, ns);
        }
    }

    /// Logs a site's first long poll.
    #[cold]
    fn log(&self, kind: PollKind, name: &str, ns: u64) {
        let kind = kind.as_str();
        let ms = ns as f64 / 1e6;
        let threshold = self.threshold_ns.load(Relaxed) as f64 / 1e6;
        diagnostic!(kind = kind, name = name, poll_ms = ms;
            "{kind} `{name}`: one poll held its thread for {ms:.1} ms, longer than \
             MCP_LONG_POLL_THRESHOLD ({threshold} ms), and nothing else ran on that \
             executor thread meanwhile. Its long polls are counted in \
             mcp_long_polls_total{{kind=\"{kind}\",name=\"{name}\"}} and the longest is on \
             the page; move blocking work to tokio::task::spawn_blocking");
    }

    /// Every site's long polls, by kind then name.
    pub(crate) fn read(&self) -> Vec<LongPoll> {
        self.sites
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|((kind, name), site)| LongPoll {
                kind: kind.as_str(),
                name: name.to_string(),
                count: site.count,
                longest: Duration::from_nanos(site.longest_ns),
            })
            .collect()
    }
}

/// One poll being watched: made before polling, handed to [`LongPolls::finish`]
/// after. While it lives, this thread is inside a watched poll (for
/// [`LongPolls::check_sync`]), until it is dropped, by a panic too.
#[must_use = "a watch is ended with LongPolls::finish"]
#[derive(Debug)]
pub(crate) struct Watch {
    start: u64,
}

impl Watch {
    /// Starts watching a poll.
    #[inline]
    pub(crate) fn start() -> Self {
        WATCHED.with(|w| w.set(w.get() + 1));
        Self { start: coarse_ns() }
    }

    /// The poll's length so far, by the coarse clock.
    #[inline]
    fn elapsed_ns(&self) -> u64 {
        coarse_ns().saturating_sub(self.start)
    }
}

impl Drop for Watch {
    #[inline]
    fn drop(&mut self) {
        WATCHED.with(|w| w.set(w.get().saturating_sub(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    const MS: u64 = 1_000_000;

    fn counts(store: &LongPolls) -> Vec<(&'static str, String, u64, u64)> {
        store
            .read()
            .into_iter()
            .map(|p| (p.kind, p.name, p.count, p.longest.as_nanos() as u64))
            .collect()
    }

    #[test]
    fn a_poll_counts_only_past_the_threshold() {
        let store = LongPolls::new(Duration::from_millis(10));
        let _inside = Watch::start();
        store.check_sync(10 * MS, PollKind::Db, || unreachable!("not named"));
        assert!(store.read().is_empty(), "exactly the threshold is not long");
        store.check_sync(10 * MS + 1, PollKind::Db, || "select users".into());
        store.check_sync(25 * MS, PollKind::Db, || "select users".into());
        store.check_sync(12 * MS, PollKind::Db, || "select users".into());
        assert_eq!(
            counts(&store),
            [("db", "select users".to_owned(), 3, 25 * MS)]
        );
    }

    #[test]
    fn a_store_counts_nothing_until_it_has_a_threshold() {
        let store = LongPolls::off();
        let _inside = Watch::start();
        store.check_sync(u64::MAX - 1, PollKind::Run, || unreachable!());
        assert!(store.read().is_empty());
    }

    #[test]
    fn a_sync_call_counts_only_inside_a_watched_poll() {
        let store = LongPolls::new(Duration::from_millis(10));
        // On a thread of its own (or a blocking one): it blocks no executor.
        store.check_sync(50 * MS, PollKind::Db, || unreachable!());
        assert!(store.read().is_empty());
        {
            let _outer = Watch::start();
            {
                let _inner = Watch::start();
            }
            // Still inside the outer poll.
            store.check_sync(50 * MS, PollKind::Db, || "insert users".into());
        }
        store.check_sync(50 * MS, PollKind::Db, || unreachable!());
        assert_eq!(counts(&store).len(), 1);
        // A panic inside a watched poll leaves the thread outside it.
        let caught = std::panic::catch_unwind(|| {
            let _w = Watch::start();
            panic!("in the poll");
        });
        assert!(caught.is_err());
        assert_eq!(WATCHED.with(Cell::get), 0);
    }

    #[test]
    fn a_watched_poll_is_timed_by_the_coarse_clock() {
        let store = LongPolls::new(Duration::from_millis(10));
        let watch = Watch::start();
        let start = coarse_ns();
        // Holds the thread until the coarse clock has moved 30 ms (not for a time:
        // its thread may wait for a core).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while coarse_ns() - start < 30 * MS {
            assert!(std::time::Instant::now() < deadline, "the clock stopped");
            std::thread::sleep(Duration::from_millis(2));
        }
        store.finish(watch, PollKind::Http, || "GET /reports/blocking".into());
        let polls = store.read();
        assert_eq!(polls.len(), 1);
        assert_eq!(
            (polls[0].kind, &*polls[0].name),
            ("http", "GET /reports/blocking")
        );
        assert!(polls[0].longest >= Duration::from_millis(30), "{polls:?}");
        // A short poll: not counted.
        let watch = Watch::start();
        store.finish(watch, PollKind::Http, || "GET /fast".into());
        assert_eq!(store.read()[0].count, 1);
        assert_eq!(store.read().len(), 1);
    }

    #[test]
    fn memory_is_one_entry_per_site_and_bounded() {
        let store = LongPolls::new(Duration::from_millis(10));
        let _inside = Watch::start();
        for _ in 0..10_000 {
            store.check_sync(11 * MS, PollKind::Step, || "wf validation".into());
        }
        assert_eq!(
            counts(&store),
            [("step", "wf validation".to_owned(), 10_000, 11 * MS)]
        );
        // 10,000 distinct sites: MAX_SITES kept, the rest in one overflow entry.
        for i in 0..10_000 {
            store.check_sync(11 * MS, PollKind::Http, || format!("GET /r{i}"));
        }
        let polls = store.read();
        assert_eq!(polls.len(), MAX_SITES + 1);
        let overflow = polls
            .iter()
            .find(|p| p.kind == "http" && p.name == OVERFLOW_NAME)
            .expect("the overflow entry");
        assert_eq!(overflow.count, 10_000 - (MAX_SITES as u64 - 1));
        assert_eq!(polls.iter().map(|p| p.count).sum::<u64>(), 20_000);
        // A site kept before the limit still counts under its name.
        store.check_sync(11 * MS, PollKind::Http, || "GET /r0".into());
        assert_eq!(store.read().iter().map(|p| p.count).sum::<u64>(), 20_001);
        assert_eq!(store.read().len(), MAX_SITES + 1);
    }

    /// Counts the warnings of target `mcp_monitor`.
    struct Warnings(Arc<AtomicUsize>);

    impl tracing::Subscriber for Warnings {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, e: &tracing::Event<'_>) {
            let m = e.metadata();
            if m.target() == "mcp_monitor" && *m.level() == tracing::Level::WARN {
                self.0.fetch_add(1, Relaxed);
            }
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn each_site_is_logged_once() {
        let logged = Arc::new(AtomicUsize::new(0));
        let store = LongPolls::new(Duration::from_millis(10));
        tracing::subscriber::with_default(Warnings(logged.clone()), || {
            let _inside = Watch::start();
            for ms in [11, 40, 12] {
                store.check_sync(ms * MS, PollKind::Db, || "select users".into());
                store.check_sync(ms * MS, PollKind::Http, || "GET /users".into());
            }
            store.check_sync(5 * MS, PollKind::Run, || unreachable!());
        });
        assert_eq!(logged.load(Relaxed), 2, "one warning per site");
        assert_eq!(store.read().iter().map(|p| p.count).sum::<u64>(), 6);
    }
}
