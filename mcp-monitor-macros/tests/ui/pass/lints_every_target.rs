//! The expansion triggers no lint in user code, on every kind of target.

#![deny(warnings)]
#![deny(unused, rust_2018_idioms, missing_docs, unreachable_pub)]
#![deny(unsafe_op_in_unsafe_fn, missing_debug_implementations)]
#![deny(clippy::all, clippy::pedantic)]

use std::fmt::Display;

use mcp_monitor::{monitor_db_operation, monitor_workflow, monitor_workflow_step};

/// An error.
#[derive(Debug)]
pub struct DbError;

/// A result.
pub type DbResult<T> = Result<T, DbError>;

/// A free function.
///
/// # Errors
///
/// Never.
#[monitor_db_operation("select", "free")]
pub fn free(id: i64) -> DbResult<i64> {
    Ok(id)
}

/// An async function.
///
/// # Errors
///
/// When `id` is negative.
#[monitor_db_operation("select", "free_async")]
pub async fn free_async(id: i64) -> DbResult<i64> {
    if id < 0 {
        return Err(DbError);
    }
    Ok(id)
}

/// A function returning nothing.
#[monitor_workflow_step("lints", "unit")]
pub fn unit() {}

/// A service.
#[derive(Debug, Default)]
pub struct Service {
    names: Vec<String>,
}

impl Service {
    /// A `&self` method.
    #[monitor_db_operation("select", "by_ref")]
    #[must_use]
    pub fn first(&self) -> Option<&str> {
        self.names.first().map(String::as_str)
    }

    /// A `&mut self` method.
    #[monitor_db_operation("insert", "by_mut")]
    pub fn push(&mut self, name: &str) -> &mut Self {
        self.names.push(name.to_owned());
        self
    }

    /// A `self` method.
    #[monitor_db_operation("delete", "by_value")]
    #[must_use]
    pub fn into_names(self) -> Vec<String> {
        self.names
    }

    /// An async `&mut self` method.
    #[monitor_db_operation("insert", "by_mut_async")]
    pub async fn push_async(&mut self, name: String) -> usize {
        self.names.push(name);
        self.names.len()
    }
}

/// A trait.
pub trait Repository {
    /// Counts.
    fn count(&self) -> usize;

    /// Loads.
    fn load(&self, id: u64) -> impl std::future::Future<Output = DbResult<u64>> + Send;

    /// A provided method, monitored in the trait itself.
    #[monitor_db_operation("select", "provided")]
    fn provided(&self) -> u8 {
        1
    }
}

impl Repository for Service {
    #[monitor_db_operation("count", "trait_impl")]
    fn count(&self) -> usize {
        self.names.len()
    }

    #[monitor_db_operation("select", "trait_impl_async")]
    async fn load(&self, id: u64) -> DbResult<u64> {
        if id == 0 {
            Err(DbError)
        } else {
            Ok(id)
        }
    }
}

/// A generic function with a where-clause and a const parameter.
#[monitor_db_operation("select", "generic")]
#[must_use]
pub fn generic<'a, T, const N: usize>(items: &'a [T; N]) -> Vec<&'a T>
where
    T: Clone + std::fmt::Debug + 'a,
{
    items.iter().collect()
}

/// A function returning `impl Trait`.
#[monitor_workflow_step("lints", "impl_trait")]
pub fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

/// An async function returning `impl Trait`.
#[monitor_workflow_step("lints", "impl_trait_async")]
pub async fn shown(n: u32) -> impl Display {
    n * 2
}

/// An `unsafe fn`.
///
/// # Safety
///
/// `p` must be valid for reads.
#[monitor_db_operation("read", "raw")]
pub unsafe fn read(p: *const u8) -> u8 {
    // SAFETY: the caller's contract.
    unsafe { *p }
}

/// An `extern "C"` function.
#[monitor_db_operation("call", "ffi")]
#[must_use]
pub extern "C" fn twice(x: u32) -> u32 {
    x.wrapping_mul(2)
}

/// Documented, inlined, `#[must_use]`, with a `#[cfg_attr]` and a lint attribute.
///
/// # Errors
///
/// When `n` is zero.
#[inline]
#[must_use = "the outcome matters"]
#[cfg_attr(test, allow(clippy::unwrap_used))]
#[allow(clippy::needless_pass_by_value)]
#[monitor_workflow("lints")]
pub fn documented(n: String) -> Result<usize, String> {
    if n.is_empty() {
        Err(n)
    } else {
        Ok(n.len())
    }
}

/// An async workflow run calling steps.
///
/// # Errors
///
/// From the steps.
#[monitor_workflow("lints_async")]
pub async fn run(service: &mut Service) -> DbResult<usize> {
    free(1)?;
    free_async(2).await?;
    let n = service.push_async("x".to_owned()).await;
    Ok(n + service.load(3).await.map(|_| 0)?)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut service = Service::default();
    assert_eq!(rt.block_on(run(&mut service)).unwrap(), 1);
    assert!(rt.block_on(free_async(-1)).is_err());
    unit();
    assert_eq!(service.push("y").first(), Some("x"));
    assert_eq!(service.count(), 2);
    assert_eq!(service.provided(), 1);
    assert_eq!(generic(&[1, 2]), vec![&1, &2]);
    assert_eq!(evens(5).collect::<Vec<_>>(), vec![0, 2, 4]);
    assert_eq!(rt.block_on(shown(2)).to_string(), "4");
    let byte = 9_u8;
    // SAFETY: `byte` is a live local.
    assert_eq!(unsafe { read(&raw const byte) }, 9);
    assert_eq!(twice(4), 8);
    assert_eq!(documented("abc".to_owned()), Ok(3));
    assert_eq!(service.into_names().len(), 2);
}
