//! How a call ended, and how the generated code tells `Err` from everything else.

/// The outcome of a monitored call; the value of the `status` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Status {
    /// Returned a value that is not `Result::Err`.
    Success = 0,
    /// Returned `Result::Err`, or panicked.
    Failure = 1,
    /// An `async fn` whose future was dropped before it completed.
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

/// Wraps a reference to a returned value so that method resolution can pick the
/// `Result` impl when the value is a `Result` (whatever alias named it) and the
/// fallback impl otherwise ("autoref specialisation").
#[doc(hidden)]
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Chosen for `Result<T, E>`: a failure is `Err`.
#[doc(hidden)]
pub trait OutcomeOfResult {
    /// Whether the value counts as a failure.
    fn mcp_monitor_is_failure(&self) -> bool;
}

impl<T, E> OutcomeOfResult for Probe<'_, Result<T, E>> {
    #[inline]
    fn mcp_monitor_is_failure(&self) -> bool {
        self.0.is_err()
    }
}

/// Chosen for every other type: never a failure.
#[doc(hidden)]
pub trait OutcomeOfAny {
    /// Whether the value counts as a failure.
    fn mcp_monitor_is_failure(&self) -> bool;
}

impl<T: ?Sized> OutcomeOfAny for &Probe<'_, T> {
    #[inline]
    fn mcp_monitor_is_failure(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Alias<T> = Result<T, String>;

    #[test]
    // The leading `&` is what the generated code writes: it makes method resolution
    // try the `Result` impl before the fallback, so it is not needless.
    #[allow(clippy::needless_borrow)]
    fn results_through_aliases_and_other_types() {
        let ok: Alias<i32> = Ok(1);
        let err: std::io::Result<()> = Err(std::io::Error::other("x"));
        assert!(!(&Probe(&ok)).mcp_monitor_is_failure());
        assert!((&Probe(&err)).mcp_monitor_is_failure());
        assert!(!(&Probe(&None::<i32>)).mcp_monitor_is_failure());
        assert!(!(&Probe(&())).mcp_monitor_is_failure());
    }
}
