//! The values of every series at one moment, and the compact form the ring keeps.
//!
//! A [`Snapshot`] copies the atomics: the HTTP series into two dense arrays indexed by
//! the series' number (bucket counts, then sums), the few macro series and caches by
//! address, each with its native histogram (what quantiles are read from). The ring
//! does not keep whole snapshots: a [`Frame`] keeps of each HTTP series its sum and its
//! native histogram (sparse: the buckets it has used, at most
//! [`MAX_BUCKETS`](crate::base::native::MAX_BUCKETS) of them), not its classic bucket
//! counts, which only `/metrics` shows, as totals.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::time::Instant;

use crate::base::histogram::HistogramSnapshot;
use crate::base::names::OpKind;
use crate::base::native::{NativeSet, MAX_BUCKETS};
use crate::calls::registry::{registry, OpSnapshot};
use crate::grpc::store::{GrpcSeries, GrpcStore};
use crate::http::store::{HttpSeries, HttpStore};
use crate::sources::caches::CacheSet;

/// The identity of a macro series or a cache: its address (they are never freed while
/// the store that holds them lives).
pub(crate) fn key<T>(r: &T) -> usize {
    std::ptr::from_ref(r) as usize
}

/// The bucket counts, sums and native histograms of every HTTP series, series `i` at
/// `counts[i * width..][..width]`, `sums[i]` and `native.get(i)`.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpCounts {
    pub(crate) width: usize,
    pub(crate) counts: Vec<u64>,
    pub(crate) sums: Vec<u64>,
    pub(crate) native: NativeSet,
}

impl HttpCounts {
    /// Reads `series`, every series of a store at one moment (sorted, numbered from 0).
    fn take(series: &[Arc<HttpSeries>], width: usize) -> Self {
        let len = series.len();
        let mut counts = vec![0; len * width];
        let mut sums = vec![0; len];
        let mut by_index: Vec<Option<&HttpSeries>> = vec![None; len];
        for s in series.iter().filter(|s| s.index < len) {
            sums[s.index] = s
                .histogram
                .read_into(&mut counts[s.index * width..][..width]);
            by_index[s.index] = Some(s);
        }
        let mut native = NativeSet::with_capacity(len);
        for s in by_index {
            match s {
                Some(s) => s.histogram.native_into(&mut native),
                None => native.push_cells(None),
            }
        }
        Self {
            width,
            counts,
            sums,
            native,
        }
    }

    /// Number of series.
    pub(crate) fn len(&self) -> usize {
        self.sums.len()
    }

    /// Series `i`'s bucket counts, or `None` if it did not exist yet.
    pub(crate) fn counts(&self, i: usize) -> Option<&[u64]> {
        (i < self.len()).then(|| &self.counts[i * self.width..][..self.width])
    }
}

/// The gRPC series at one moment: each one's histogram (sorted by service, method and
/// code), and its `[count, sum_ns]` by address (what the ring keeps).
#[derive(Debug, Clone, Default)]
pub(crate) struct GrpcCounts {
    pub(crate) series: Vec<(Arc<GrpcSeries>, HistogramSnapshot)>,
    pub(crate) totals: HashMap<usize, [u64; 2]>,
}

impl GrpcCounts {
    fn take(store: &GrpcStore) -> Self {
        let series: Vec<_> = store
            .series()
            .iter()
            .map(|s| (s.clone(), s.histogram.snapshot()))
            .collect();
        let totals = series
            .iter()
            .map(|(s, h)| (key(&**s), [h.count(), h.sum_ns]))
            .collect();
        Self { series, totals }
    }
}

/// The values of every series at one moment.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) at: Instant,
    /// The HTTP series read, sorted by path, method and status.
    pub(crate) http_series: Arc<[Arc<HttpSeries>]>,
    pub(crate) http: HttpCounts,
    pub(crate) ops: HashMap<usize, OpSnapshot>,
    pub(crate) caches: HashMap<usize, [u64; 2]>,
    /// The gRPC series (none until [`Self::with_grpc`]).
    pub(crate) grpc: GrpcCounts,
}

impl Snapshot {
    /// Adds the gRPC series of `store`.
    pub(crate) fn with_grpc(mut self, store: &GrpcStore) -> Self {
        self.grpc = GrpcCounts::take(store);
        self
    }

    pub(crate) fn take(http: &HttpStore, caches: &CacheSet, at: Instant) -> Self {
        let reg = registry();
        let ops = [OpKind::Db, OpKind::Step, OpKind::Run]
            .into_iter()
            .flat_map(|k| reg.ops(k))
            .map(|s| (key(s), s.snapshot()))
            .collect();
        let caches = caches
            .all()
            .iter()
            .map(|c| (key(&**c), c.counts()))
            .collect();
        let series = http.series();
        Self {
            at,
            http: HttpCounts::take(&series, http.buckets().bounds().len() + 1),
            http_series: series,
            ops,
            caches,
            grpc: GrpcCounts::default(),
        }
    }
}

/// One snapshot of the ring: of each HTTP series its sum and native histogram (at
/// most [`MAX_BUCKETS`] buckets each), the macro series and the caches.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) at: Instant,
    native: NativeSet,
    sums: Box<[u64]>,
    ops: HashMap<usize, OpSnapshot>,
    caches: HashMap<usize, [u64; 2]>,
    grpc: HashMap<usize, [u64; 2]>,
}

impl Frame {
    /// Keeps what the ring needs of `now`.
    pub(crate) fn new(now: Snapshot) -> Self {
        let mut native = now.http.native;
        if native.any_above(MAX_BUCKETS) {
            native = native.reduced(MAX_BUCKETS);
        }
        native.shrink();
        Self {
            at: now.at,
            native,
            sums: now.http.sums.into_boxed_slice(),
            ops: now.ops,
            caches: now.caches,
            grpc: now.grpc.totals,
        }
    }
}

/// What a difference is taken from: nothing, a whole snapshot, or a frame of the ring.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// Zero: the values since the process started.
    Zero,
    /// A snapshot.
    Snapshot(Arc<Snapshot>),
    /// A frame of the ring.
    Frame { frame: Arc<Frame> },
}

impl Origin {
    /// When the origin was taken; `None` for [`Origin::Zero`].
    pub(crate) fn at(&self) -> Option<Instant> {
        match self {
            Origin::Zero => None,
            Origin::Snapshot(s) => Some(s.at),
            Origin::Frame { frame, .. } => Some(frame.at),
        }
    }

    /// HTTP series `i`'s values at the origin (zero where the series did not exist
    /// yet): its sum, its native histogram and, unless the origin is a frame of the
    /// ring (which does not keep them), its `width` classic bucket counts.
    pub(crate) fn http(&self, i: usize, width: usize) -> HistogramSnapshot {
        match self {
            Origin::Zero => HistogramSnapshot {
                counts: vec![0; width],
                ..HistogramSnapshot::default()
            },
            Origin::Snapshot(s) => HistogramSnapshot {
                counts: s
                    .http
                    .counts(i)
                    .filter(|c| c.len() == width)
                    .map_or_else(|| vec![0; width], <[u64]>::to_vec),
                sum_ns: s.http.sums.get(i).copied().unwrap_or(0),
                native: s.http.native.get(i).unwrap_or_default(),
            },
            Origin::Frame { frame, .. } => HistogramSnapshot {
                counts: Vec::new(),
                sum_ns: frame.sums.get(i).copied().unwrap_or(0),
                native: frame.native.get(i).unwrap_or_default(),
            },
        }
    }

    /// The macro series `key`'s values at the origin (`None`: it did not exist yet).
    pub(crate) fn op(&self, key: usize) -> Option<&OpSnapshot> {
        match self {
            Origin::Zero => None,
            Origin::Snapshot(s) => s.ops.get(&key),
            Origin::Frame { frame, .. } => frame.ops.get(&key),
        }
    }

    /// The cache `key`'s `[hits, misses]` at the origin.
    pub(crate) fn cache(&self, key: usize) -> [u64; 2] {
        match self {
            Origin::Zero => None,
            Origin::Snapshot(s) => s.caches.get(&key),
            Origin::Frame { frame, .. } => frame.caches.get(&key),
        }
        .copied()
        .unwrap_or_default()
    }

    /// The gRPC series `key`'s `[count, sum_ns]` at the origin.
    pub(crate) fn grpc(&self, key: usize) -> [u64; 2] {
        match self {
            Origin::Zero => None,
            Origin::Snapshot(s) => s.grpc.totals.get(&key),
            Origin::Frame { frame, .. } => frame.grpc.get(&key),
        }
        .copied()
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::native::NativeCells;

    fn snap(at: Instant, sums: Vec<u64>, ns: &[u64]) -> Snapshot {
        let mut native = NativeSet::with_capacity(sums.len());
        for _ in &sums {
            let c = NativeCells::new(3);
            for &x in ns {
                c.record_ns(x);
            }
            native.push_cells(Some(&c));
        }
        Snapshot {
            at,
            http_series: Arc::new([]),
            http: HttpCounts {
                width: 2,
                counts: vec![0; 2 * sums.len()],
                sums,
                native,
            },
            ops: HashMap::new(),
            caches: HashMap::new(),
            grpc: GrpcCounts::default(),
        }
    }

    #[test]
    fn a_frame_gives_back_the_native_histograms_it_was_made_of() {
        let t = Instant::now();
        let now = snap(t, vec![11, 20], &[5, 7_000, 9_000_000]);
        let expected = now.http.native.get(1);
        let origin = Origin::Frame {
            frame: Arc::new(Frame::new(now)),
        };
        let one = origin.http(1, 2);
        assert_eq!(Some(one.native), expected);
        assert_eq!(one.sum_ns, 20);
        assert!(one.counts.is_empty());
        assert_eq!(origin.http(2, 2).count(), 0);
    }

    #[test]
    fn a_frame_keeps_at_most_max_buckets_per_series() {
        let t = Instant::now();
        // 1 ns to 584 years: far more than MAX_BUCKETS buckets at schema 3.
        let wide: Vec<u64> = (0..63)
            .flat_map(|e| (0..8).map(move |i| (1u64 << e) / 8 * (8 + i)))
            .collect();
        let now = snap(t, vec![1], &wide);
        assert!(now.http.native.get(0).unwrap().buckets().len() > MAX_BUCKETS);
        let frame = Frame::new(now);
        let kept = frame.native.get(0).unwrap();
        assert!(kept.buckets().len() <= MAX_BUCKETS);
        assert_eq!(kept.count(), wide.len() as u64);
    }
}
