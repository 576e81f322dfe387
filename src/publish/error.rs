//! Why a publish job did not end in a release.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The job cannot succeed as asked (compile errors, an unknown page or release, no
    /// enabled target). It ends as failed; running it again would fail the same way.
    #[error("{0}")]
    Rejected(String),
    /// Every target it was to write failed; each target's result says why.
    #[error("{failed} of {total} targets failed")]
    Targets { failed: usize, total: usize },
    /// The compiler itself failed (a bug, not a problem in the drafts).
    #[error("the compiler failed: {0}")]
    Compiler(String),
    /// The control-plane database failed around the job: it is left to be run again.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PublishError {
    /// Whether the job ends here (as failed) rather than being retried.
    pub fn is_final(&self) -> bool {
        !matches!(self, PublishError::Store(_))
    }
}
