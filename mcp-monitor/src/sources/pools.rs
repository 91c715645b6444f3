//! Database connection pools reported by the application.

use std::sync::{Arc, Mutex, PoisonError};

/// What the monitor needs to know about a connection pool. Implement it for your pool
/// and register it with [`Monitor::register_pool`](crate::Monitor::register_pool); with
/// the `sqlx` feature, `sqlx::Pool` implements it already, whatever its database.
///
/// The pool is read every `MCP_RESOURCE_INTERVAL` (and when a JSON endpoint needs it), so
/// the methods should be cheap: a few atomic loads, no I/O. `in_use / max_size` is what
/// `HIGH_DB_POOL_UTILIZATION` compares with `MCP_DB_POOL_THRESHOLD`.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
/// use std::sync::Arc;
///
/// /// A pool of your own that counts its connections.
/// struct MyPool {
///     open: AtomicU32,
///     checked_out: AtomicU32,
///     max: u32,
/// }
///
/// struct MyPoolStats(Arc<MyPool>);
///
/// impl mcp_monitor::PoolStats for MyPoolStats {
///     fn in_use(&self) -> u32 {
///         self.0.checked_out.load(Relaxed)
///     }
///     fn idle(&self) -> u32 {
///         self.0.open.load(Relaxed).saturating_sub(self.in_use())
///     }
///     fn max_size(&self) -> u32 {
///         self.0.max
///     }
/// }
///
/// # fn main() -> Result<(), mcp_monitor::Error> {
/// let pool = Arc::new(MyPool { open: AtomicU32::new(4), checked_out: AtomicU32::new(3), max: 10 });
/// let monitor = mcp_monitor::Monitor::builder().build()?;
/// monitor.register_pool("main", MyPoolStats(pool.clone()));
/// monitor.sample_resources();
/// assert!(monitor.render().contains(r#"pool="main""#));
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connection pool that mcp-monitor can read (it does not implement `PoolStats`)",
    label = "not a `PoolStats`",
    note = "for an `sqlx::Pool`, enable the `sqlx` feature: mcp-monitor = {{ version = \"0.1\", features = [\"sqlx\"] }}",
    note = "for another pool, implement `mcp_monitor::PoolStats` (in use, idle, max size) on a wrapper of it"
)]
pub trait PoolStats: Send + Sync + 'static {
    /// Connections checked out and in use now.
    fn in_use(&self) -> u32;
    /// Open connections sitting idle now.
    fn idle(&self) -> u32;
    /// The most connections the pool will open.
    fn max_size(&self) -> u32;
}

#[cfg(feature = "sqlx")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlx")))]
impl<DB: sqlx::Database> PoolStats for sqlx::Pool<DB> {
    fn in_use(&self) -> u32 {
        self.size()
            .saturating_sub(u32::try_from(self.num_idle()).unwrap_or(u32::MAX))
    }

    fn idle(&self) -> u32 {
        u32::try_from(self.num_idle()).unwrap_or(u32::MAX)
    }

    fn max_size(&self) -> u32 {
        self.options().get_max_connections()
    }
}

/// One sample of a pool.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PoolSample {
    pub(crate) name: String,
    pub(crate) in_use: u32,
    pub(crate) idle: u32,
    pub(crate) max_size: u32,
}

impl PoolSample {
    /// Connections in use over the pool's maximum size.
    pub(crate) fn utilization(&self) -> Option<f64> {
        (self.max_size > 0).then(|| f64::from(self.in_use) / f64::from(self.max_size))
    }
}

/// The registered pools of one monitor.
#[derive(Default)]
pub(crate) struct PoolSet {
    pools: Mutex<Vec<(String, Arc<dyn PoolStats>)>>,
}

impl std::fmt::Debug for PoolSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolSet").finish_non_exhaustive()
    }
}

impl PoolSet {
    /// Registers (or replaces) the pool called `name`.
    pub(crate) fn register(&self, name: &str, pool: Arc<dyn PoolStats>) {
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        match pools.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = pool,
            None => pools.push((name.to_owned(), pool)),
        }
    }

    /// Reads every pool now.
    pub(crate) fn sample(&self) -> Vec<PoolSample> {
        let pools = self
            .pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        pools
            .into_iter()
            .map(|(name, p)| PoolSample {
                name,
                in_use: p.in_use(),
                idle: p.idle(),
                max_size: p.max_size(),
            })
            .collect()
    }
}
