//! Checking the audit log's hash chain.

use wangge_store::audit::{ChainBreak, ChainVerifier};

use crate::App;
use crate::error::AppError;

impl App {
    /// Walks the whole audit log; `Ok(Ok(n))` when all `n` records hold,
    /// `Ok(Err(break))` at the first record that does not.
    pub async fn verify_audit(&self) -> Result<Result<i64, ChainBreak>, AppError> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        loop {
            let page = self.store.audit_records(after, 5000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in &page {
                if let Err(b) = verifier.push(r) {
                    return Ok(Err(b));
                }
            }
        }
        Ok(Ok(verifier.count()))
    }
}
