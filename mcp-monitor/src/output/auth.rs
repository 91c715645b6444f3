//! A bearer token compared so that the time a comparison takes reveals neither its
//! bytes nor its length.
//!
//! A constant-time comparison of two byte strings still returns early when their
//! lengths differ, which tells a caller the secret's length. So both sides are first
//! reduced to a 128-bit digest: two SipHash digests keyed by `std`'s `RandomState`
//! (random per process and thread; the two keys of one [`Secret`] are related, which
//! matters nothing here, since the digests are never shown). The secret's digest is
//! computed once, when the secret is made; the presented token's on each check, in time
//! that depends only on what the caller sent. The digests are compared in constant
//! time, and only when they are equal are the tokens themselves compared, as the exact
//! check that decides.

use std::fmt;
use std::hash::{BuildHasher, RandomState};

use subtle::ConstantTimeEq;

/// A secret token; see the module docs.
pub(crate) struct Secret {
    token: Box<str>,
    keys: [RandomState; 2],
    digest: [u8; 16],
}

impl Secret {
    pub(crate) fn new(token: &str) -> Self {
        let keys = [RandomState::new(), RandomState::new()];
        let digest = digest(&keys, token);
        Self {
            token: token.into(),
            keys,
            digest,
        }
    }

    /// Whether `presented` is the secret.
    pub(crate) fn matches(&self, presented: &str) -> bool {
        let same: bool = digest(&self.keys, presented).ct_eq(&self.digest).into();
        same && bool::from(presented.as_bytes().ct_eq(self.token.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

fn digest(keys: &[RandomState; 2], token: &str) -> [u8; 16] {
    let mut out = [0; 16];
    for (half, key) in out.chunks_exact_mut(8).zip(keys) {
        half.copy_from_slice(&key.hash_one(token.as_bytes()).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_itself_matches() {
        let s = Secret::new("s3cret-token");
        assert!(s.matches("s3cret-token"));
        for wrong in ["", "s3cret-toke", "s3cret-token ", "S3cret-token", "x"] {
            assert!(!s.matches(wrong), "{wrong:?}");
        }
        assert_eq!(format!("{s:?}"), "Secret(..)");
    }
}
