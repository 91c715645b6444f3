//! How a call ended, and how the generated code tells `Err` from everything else.

/// The outcome of a monitored call; the value of the `status` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Status {
    /// Returned a value that is not `Result::Err`, or an `Err` whose error type says,
    /// through [`MonitoredError`], that it is not a failure.
    Success = 0,
    /// Returned `Result::Err` (unless its [`MonitoredError`] says otherwise), or panicked.
    Failure = 1,
    /// An `async fn` (or a function returning a future) whose future was dropped
    /// before it completed.
    Cancelled = 2,
}

impl Status {
    /// Every status, in label order.
    pub const ALL: [Status; 3] = [Status::Success, Status::Failure, Status::Cancelled];

    /// The label value: `success`, `failure` or `cancelled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Cancelled => "cancelled",
        }
    }
}

/// Lets an error type say which of its values are not failures of the monitored call.
///
/// By default every `Err` a monitored function returns counts as `failure`. Implement
/// this trait for your error type when some of its values report the caller's mistake
/// rather than a failure of the operation: a unique-constraint violation for an e-mail
/// that is already taken, a row that does not exist, a validation error. The macros
/// consult it whenever the function's error type implements it (through any alias of
/// `Result`), and count an `Err` for which [`is_failure`](Self::is_failure) is `false`
/// as `success`: the database (or the step) did its work and answered correctly; the
/// caller's mistake shows where it belongs, as a 4xx on the HTTP side.
///
/// ```
/// use mcp_monitor::{monitor_db_operation, MonitoredError};
///
/// #[derive(Debug)]
/// enum DbError {
///     EmailTaken,
///     Connection,
/// }
///
/// impl MonitoredError for DbError {
///     fn is_failure(&self) -> bool {
///         !matches!(self, DbError::EmailTaken)
///     }
/// }
///
/// #[monitor_db_operation("insert", "users")]
/// async fn create_user(email: &str) -> Result<i64, DbError> {
///     if email == "taken@example.com" {
///         return Err(DbError::EmailTaken); // counted as `success`
///     }
///     Err(DbError::Connection) // counted as `failure`
/// }
/// ```
pub trait MonitoredError {
    /// Whether this error is a failure of the monitored call (`failure`), rather than
    /// an answer to a caller's mistake (counted as `success`).
    fn is_failure(&self) -> bool;
}

/// Wraps a reference to a returned value so that method resolution picks, in this
/// order ("autoref specialisation", called as `(&&Probe(&value))`): the
/// [`MonitoredError`] impl for a `Result` whose error type implements it, the `Result`
/// impl for any other `Result` (whatever alias named it), and the fallback impl for
/// every other type.
#[doc(hidden)]
pub struct Probe<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> Clone for Probe<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Probe<'_, T> {}

/// Chosen for `Result<T, E>` where `E: MonitoredError`: a failure is an `Err` that
/// says it is one.
#[doc(hidden)]
pub trait OutcomeOfClassified {
    /// Whether the value counts as a failure.
    fn mcp_monitor_is_failure(self) -> bool;
}

impl<T, E: MonitoredError> OutcomeOfClassified for &&Probe<'_, Result<T, E>> {
    #[inline]
    fn mcp_monitor_is_failure(self) -> bool {
        match self.0 {
            Ok(_) => false,
            Err(e) => e.is_failure(),
        }
    }
}

/// Chosen for any other `Result<T, E>`: a failure is `Err`.
#[doc(hidden)]
pub trait OutcomeOfResult {
    /// Whether the value counts as a failure.
    fn mcp_monitor_is_failure(self) -> bool;
}

impl<T, E> OutcomeOfResult for &Probe<'_, Result<T, E>> {
    #[inline]
    fn mcp_monitor_is_failure(self) -> bool {
        self.0.is_err()
    }
}

/// Chosen for every other type: never a failure.
#[doc(hidden)]
pub trait OutcomeOfAny {
    /// Whether the value counts as a failure.
    fn mcp_monitor_is_failure(self) -> bool;
}

impl<T: ?Sized> OutcomeOfAny for Probe<'_, T> {
    #[inline]
    fn mcp_monitor_is_failure(self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Alias<T> = Result<T, String>;

    #[derive(Debug)]
    enum Classified {
        Caller,
        Server,
    }

    impl MonitoredError for Classified {
        fn is_failure(&self) -> bool {
            matches!(self, Classified::Server)
        }
    }

    type Classifying<T> = Result<T, Classified>;

    #[test]
    // The leading `&&` is what the generated code writes: it makes method resolution
    // try the classified impl, then the `Result` impl, then the fallback, so it is not
    // needless.
    #[allow(clippy::needless_borrow)]
    fn results_through_aliases_and_other_types() {
        let ok: Alias<i32> = Ok(1);
        let err: std::io::Result<()> = Err(std::io::Error::other("x"));
        assert!(!(&&Probe(&ok)).mcp_monitor_is_failure());
        assert!((&&Probe(&err)).mcp_monitor_is_failure());
        assert!(!(&&Probe(&None::<i32>)).mcp_monitor_is_failure());
        assert!(!(&&Probe(&())).mcp_monitor_is_failure());
    }

    #[test]
    #[allow(clippy::needless_borrow)]
    fn an_error_type_decides_which_errors_are_failures() {
        let caller: Classifying<()> = Err(Classified::Caller);
        let server: Classifying<()> = Err(Classified::Server);
        let ok: Classifying<()> = Ok(());
        assert!(!(&&Probe(&caller)).mcp_monitor_is_failure());
        assert!((&&Probe(&server)).mcp_monitor_is_failure());
        assert!(!(&&Probe(&ok)).mcp_monitor_is_failure());
    }
}
