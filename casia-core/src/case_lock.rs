//! Commands on one case in this process run one at a time, in arrival
//! order (issue 15). Without it, several connections working the same case
//! decide on the same version and all but one lose the race
//! (`version_conflict`, DOMAIN.md §10), re-read and decide again — under
//! load, most of the work is thrown away and a command can exhaust its
//! retries. Waiting here instead, each command decides on the version its
//! predecessor wrote. Conflicts with other processes (other instances on
//! one database, the sweep) are still settled by the version check and the
//! service's retries.
//!
//! The lock is futures-util's runtime-agnostic async mutex, so the core
//! stays free of any runtime.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::lock::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::ids::CaseNumber;

/// One async mutex per case that has a command running or waiting; an
/// entry leaves the map with the last command that needed it.
#[derive(Default)]
pub(crate) struct CaseLocks {
    held: Mutex<HashMap<CaseNumber, Arc<AsyncMutex<()>>>>,
}

/// The turn of one command on one case; the next command's turn starts
/// when it is dropped.
pub(crate) struct CaseTurn<'a> {
    locks: &'a CaseLocks,
    number: CaseNumber,
    guard: Option<OwnedMutexGuard<()>>,
}

impl CaseLocks {
    /// Waits for the case's earlier commands in this process to finish.
    pub(crate) async fn turn(&self, number: CaseNumber) -> CaseTurn<'_> {
        let mutex = {
            let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(held.entry(number).or_default())
        };
        let guard = mutex.lock_owned().await;
        CaseTurn {
            locks: self,
            number,
            guard: Some(guard),
        }
    }

    /// How many cases have a command running or waiting (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for CaseTurn<'_> {
    fn drop(&mut self) {
        // Release first, then forget the case if nobody else holds or waits
        // for its mutex (clones are only taken under the map's lock).
        self.guard = None;
        let mut held = self
            .locks
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if held
            .get(&self.number)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            held.remove(&self.number);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use futures_util::FutureExt;

    fn number(seq: u32) -> CaseNumber {
        CaseNumber::new(2026, seq).expect("number")
    }

    #[test]
    fn one_turn_per_case_and_the_map_empties() {
        let locks = CaseLocks::default();
        let first = block_on(locks.turn(number(1)));
        // Another case is free; the same case waits.
        let other = block_on(locks.turn(number(2)));
        let mut waiting = Box::pin(locks.turn(number(1)));
        assert!((&mut waiting).now_or_never().is_none());
        drop(first);
        let second = waiting.now_or_never().expect("free after the first turn");
        assert_eq!(locks.len(), 2);
        drop(second);
        drop(other);
        assert_eq!(locks.len(), 0);
    }
}
