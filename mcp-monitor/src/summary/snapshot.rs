//! The values of every series at one moment, and the compact form the ring keeps.
//!
//! A [`Snapshot`] copies the atomics: the HTTP series into two dense arrays indexed by
//! the series' number (bucket counts, then sums), the few macro series and caches by
//! address. The ring does not keep whole snapshots: a [`Frame`] keeps each HTTP bucket
//! count as its difference from the baseline in 32 bits (64 when one does not fit), so
//! that the window costs about half what copies would.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::time::Instant;

use crate::base::names::OpKind;
use crate::calls::registry::{registry, OpSnapshot};
use crate::http::store::{HttpSeries, HttpStore};
use crate::sources::caches::CacheSet;

/// The identity of a macro series or a cache: its address (they are never freed while
/// the store that holds them lives).
pub(crate) fn key<T>(r: &T) -> usize {
    std::ptr::from_ref(r) as usize
}

/// The bucket counts and sums of every HTTP series, series `i` at
/// `counts[i * width..][..width]` and `sums[i]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpCounts {
    pub(crate) width: usize,
    pub(crate) counts: Vec<u64>,
    pub(crate) sums: Vec<u64>,
}

impl HttpCounts {
    /// Reads `series`, every series of a store at one moment (sorted, numbered from 0).
    fn take(series: &[Arc<HttpSeries>], width: usize) -> Self {
        let len = series.len();
        let mut counts = vec![0; len * width];
        let mut sums = vec![0; len];
        for s in series.iter().filter(|s| s.index < len) {
            sums[s.index] = s
                .histogram
                .read_into(&mut counts[s.index * width..][..width]);
        }
        Self {
            width,
            counts,
            sums,
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

/// The values of every series at one moment.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) at: Instant,
    /// The HTTP series read, sorted by path, method and status.
    pub(crate) http_series: Arc<[Arc<HttpSeries>]>,
    pub(crate) http: HttpCounts,
    pub(crate) ops: HashMap<usize, OpSnapshot>,
    pub(crate) caches: HashMap<usize, [u64; 2]>,
}

impl Snapshot {
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
        }
    }
}

/// HTTP bucket counts minus the baseline's, in 32 bits while every one fits.
#[derive(Debug)]
enum Cells {
    Narrow(Box<[u32]>),
    Wide(Box<[u64]>),
}

/// One snapshot of the ring, its HTTP bucket counts kept as differences from the
/// baseline it was taken against.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) at: Instant,
    width: usize,
    cells: Cells,
    sums: Box<[u64]>,
    ops: HashMap<usize, OpSnapshot>,
    caches: HashMap<usize, [u64; 2]>,
}

impl Frame {
    /// `now` stored against `baseline`.
    pub(crate) fn new(now: Snapshot, baseline: &Snapshot) -> Self {
        let w = now.http.width;
        let diff = |i: usize| -> u64 {
            let base = baseline
                .http
                .counts
                .get(i)
                .filter(|_| baseline.http.width == w);
            now.http.counts[i].saturating_sub(base.copied().unwrap_or(0))
        };
        let n = now.http.counts.len();
        let narrow: Option<Box<[u32]>> = (0..n).map(|i| u32::try_from(diff(i)).ok()).collect();
        let cells = match narrow {
            Some(c) => Cells::Narrow(c),
            None => Cells::Wide((0..n).map(diff).collect()),
        };
        Self {
            at: now.at,
            width: w,
            cells,
            sums: now.http.sums.into_boxed_slice(),
            ops: now.ops,
            caches: now.caches,
        }
    }

    fn len(&self) -> usize {
        self.sums.len()
    }
}

/// What a difference is taken from: nothing, a whole snapshot, or a frame of the ring
/// with the baseline it was stored against.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// Zero: the values since the process started.
    Zero,
    /// A snapshot.
    Snapshot(Arc<Snapshot>),
    /// A frame and its baseline.
    Frame {
        baseline: Arc<Snapshot>,
        frame: Arc<Frame>,
    },
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

    /// HTTP series `i`'s bucket counts at the origin, added into `out` (zeros where
    /// the series did not exist yet), and its sum.
    pub(crate) fn http_into(&self, i: usize, out: &mut [u64]) -> u64 {
        let add = |out: &mut [u64], counts: Option<&[u64]>| {
            if let Some(c) = counts.filter(|c| c.len() == out.len()) {
                for (o, c) in out.iter_mut().zip(c) {
                    *o += c;
                }
            }
        };
        match self {
            Origin::Zero => 0,
            Origin::Snapshot(s) => {
                add(out, s.http.counts(i));
                s.http.sums.get(i).copied().unwrap_or(0)
            }
            Origin::Frame { baseline, frame } => {
                if i >= frame.len() || frame.width != out.len() {
                    return 0;
                }
                add(out, baseline.http.counts(i));
                let w = frame.width;
                match &frame.cells {
                    Cells::Narrow(c) => {
                        for (o, c) in out.iter_mut().zip(&c[i * w..][..w]) {
                            *o += u64::from(*c);
                        }
                    }
                    Cells::Wide(c) => add(out, Some(&c[i * w..][..w])),
                }
                frame.sums[i]
            }
        }
    }

    /// HTTP series `i`'s values at the origin.
    #[cfg(test)]
    pub(crate) fn http(&self, i: usize, width: usize) -> crate::base::histogram::HistogramSnapshot {
        let mut counts = vec![0; width];
        let sum_ns = self.http_into(i, &mut counts);
        crate::base::histogram::HistogramSnapshot { counts, sum_ns }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(at: Instant, counts: Vec<u64>, sums: Vec<u64>) -> Snapshot {
        Snapshot {
            at,
            http_series: Arc::new([]),
            http: HttpCounts {
                width: 2,
                counts,
                sums,
            },
            ops: HashMap::new(),
            caches: HashMap::new(),
        }
    }

    #[test]
    fn a_frame_gives_back_the_snapshot_it_was_made_of() {
        let t = Instant::now();
        let baseline = Arc::new(snap(t, vec![5, 1], vec![10]));
        // Series 1 was created after the baseline; series 0's first bucket grew past
        // 32 bits.
        let big = u64::from(u32::MAX) + 7;
        for (counts, wide) in [(vec![6, 1, 3, 4], false), (vec![5 + big, 1, 3, 4], true)] {
            let now = snap(t, counts.clone(), vec![11, 20]);
            let frame = Frame::new(now, &baseline);
            assert_eq!(matches!(frame.cells, Cells::Wide(_)), wide);
            let origin = Origin::Frame {
                baseline: baseline.clone(),
                frame: Arc::new(frame),
            };
            assert_eq!(origin.http(0, 2).counts, counts[..2]);
            assert_eq!(origin.http(1, 2).counts, counts[2..]);
            assert_eq!(origin.http(1, 2).sum_ns, 20);
            assert_eq!(origin.http(2, 2).counts, [0, 0]);
        }
    }
}
