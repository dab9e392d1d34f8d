//! In-memory adapters for every port: good enough for embedders, examples
//! and every test. One mutex makes each write atomic and numbering gap-free.

use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::case::Case;
use crate::command::Change;
use crate::error::StoreError;
use crate::idempotency::{self, IdempotencyClaim, IdempotencyKey, KeyRecord, Reservation};
use crate::ids::{AuthorizationId, CaseNumber, OfficeCode, UserId};
use crate::notification::Notification;
use crate::ports::{
    AttachmentContentStore, CaseRepository, ContactDirectory, DeliveryFailure, DeliveryState,
    Outbox, OutboxMessage, StoredContent,
};
use crate::search::{SearchFilter, in_queue, queue_order, search_order};
use crate::status::{CaseState, OpenSubstatus};
use crate::submission::{CaseDraft, NewCase};

#[derive(Debug, Default)]
struct State {
    cases: BTreeMap<CaseNumber, Case>,
    last_sequence: HashMap<i32, u32>,
    contents: HashMap<(CaseNumber, u32), Bytes>,
    receipt_codes: HashMap<String, CaseNumber>,
    outbox: Vec<OutboxMessage>,
    contacts: HashMap<AuthorizationId, String>,
    keys: HashMap<(AuthorizationId, UserId, IdempotencyKey), KeyRecord>,
}

impl State {
    fn enqueue(&mut self, notifications: &[Notification]) {
        for n in notifications {
            let id = self.outbox.len() as u64 + 1;
            self.outbox.push(OutboxMessage::new(id, n.clone()));
        }
    }
}

/// The in-memory store: repository, content store, contacts and outbox.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store: no cases, every year's numbering at 1.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every notification ever emitted, in order (tests, examples).
    pub fn outbox_snapshot(&self) -> Vec<OutboxMessage> {
        self.lock().outbox.clone()
    }

    /// How many cases the store holds.
    pub fn len(&self) -> usize {
        self.lock().cases.len()
    }

    /// Whether the store holds no case.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl CaseRepository for MemoryStore {
    async fn get(&self, number: CaseNumber) -> Result<Option<Case>, StoreError> {
        Ok(self.lock().cases.get(&number).cloned())
    }

    async fn create(&self, draft: &CaseDraft) -> Result<NewCase, StoreError> {
        let mut s = self.lock();
        let next = s.last_sequence.get(&draft.year()).copied().unwrap_or(0) + 1;
        let number = CaseNumber::new(draft.year(), next).ok_or_else(|| {
            StoreError::backend(format!("case numbers of {} exhausted", draft.year()))
        })?;
        let created = draft.complete(number);
        s.last_sequence.insert(draft.year(), next);
        if let Some(claim) = draft.idempotency()
            && let Some(record) = s.keys.get_mut(&(
                claim.authorization.clone(),
                claim.user.clone(),
                claim.key.clone(),
            ))
            && record.fingerprint == claim.fingerprint
        {
            record.case = Some(number);
        }
        for a in created.attachments.iter().filter(|a| !a.content.is_empty()) {
            s.contents.insert((number, a.meta.id), a.content.clone());
        }
        s.receipt_codes
            .insert(created.case.receipt.verification_code.clone(), number);
        s.enqueue(&created.notifications);
        s.cases.insert(number, created.case.clone());
        Ok(created)
    }

    async fn reserve_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let mut s = self.lock();
        let id = (
            claim.authorization.clone(),
            claim.user.clone(),
            claim.key.clone(),
        );
        let decision = idempotency::decide(s.keys.get(&id), &claim.fingerprint, now);
        if decision == Reservation::Reserved {
            s.keys
                .insert(id, idempotency::reserve(&claim.fingerprint, now));
        }
        Ok(decision)
    }

    async fn release_idempotency_key(&self, claim: &IdempotencyClaim) -> Result<(), StoreError> {
        let mut s = self.lock();
        let id = (
            claim.authorization.clone(),
            claim.user.clone(),
            claim.key.clone(),
        );
        if s.keys
            .get(&id)
            .is_some_and(|r| r.case.is_none() && r.fingerprint == claim.fingerprint)
        {
            s.keys.remove(&id);
        }
        Ok(())
    }

    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut s = self.lock();
        let before = s.keys.len();
        s.keys.retain(|_, r| !idempotency::purgeable(r, now));
        Ok((before - s.keys.len()) as u64)
    }

    async fn update(&self, change: &Change) -> Result<(), StoreError> {
        let mut s = self.lock();
        let number = change.case.number;
        match s.cases.get(&number) {
            Some(current) if current.version == change.expected_version => {}
            Some(_) => return Err(StoreError::VersionConflict),
            None => {
                return Err(StoreError::Corrupt {
                    case: number.to_string(),
                    detail: "update of a case that does not exist".into(),
                });
            }
        }
        for a in change
            .new_attachments
            .iter()
            .filter(|a| !a.content.is_empty())
        {
            s.contents.insert((number, a.meta.id), a.content.clone());
        }
        s.enqueue(&change.notifications);
        s.cases.insert(number, change.case.clone());
        Ok(())
    }

    async fn search(&self, filter: &SearchFilter) -> Result<Vec<Case>, StoreError> {
        let s = self.lock();
        let mut found: Vec<Case> = s
            .cases
            .values()
            .filter(|c| filter.matches(c))
            .cloned()
            .collect();
        found.sort_by(search_order);
        found.truncate(filter.limit + 1);
        Ok(found)
    }

    async fn queue(&self, office: OfficeCode) -> Result<Vec<Case>, StoreError> {
        let s = self.lock();
        let mut found: Vec<Case> = s
            .cases
            .values()
            .filter(|c| in_queue(c, office))
            .cloned()
            .collect();
        found.sort_by(queue_order);
        Ok(found)
    }

    async fn awaiting_information(&self) -> Result<Vec<Case>, StoreError> {
        Ok(self
            .lock()
            .cases
            .values()
            .filter(|c| c.state == CaseState::Open(OpenSubstatus::InformationRequested))
            .cloned()
            .collect())
    }

    async fn find_by_receipt_code(&self, code: &str) -> Result<Option<Case>, StoreError> {
        let s = self.lock();
        Ok(s.receipt_codes
            .get(code)
            .and_then(|n| s.cases.get(n))
            .cloned())
    }

    async fn attachment_content(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Bytes>, StoreError> {
        Ok(self.lock().contents.get(&(number, attachment)).cloned())
    }

    async fn attachment_hashes(&self) -> Result<Vec<String>, StoreError> {
        let s = self.lock();
        let mut hashes: Vec<String> = s
            .cases
            .values()
            .flat_map(|c| c.attachments.iter().map(|a| a.sha256.clone()))
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        Ok(hashes)
    }

    async fn stored_contents(
        &self,
        after: Option<(CaseNumber, u32)>,
        limit: usize,
    ) -> Result<Vec<StoredContent>, StoreError> {
        let s = self.lock();
        let mut keys: Vec<_> = s
            .contents
            .keys()
            .copied()
            .filter(|k| after.is_none_or(|a| *k > a))
            .collect();
        keys.sort_unstable();
        Ok(keys
            .into_iter()
            .take(limit)
            .filter_map(|(number, attachment)| {
                let bytes = s.contents.get(&(number, attachment))?.clone();
                let sha256 = s
                    .cases
                    .get(&number)?
                    .attachments
                    .iter()
                    .find(|a| a.id == attachment)?
                    .sha256
                    .clone();
                Some(StoredContent {
                    number,
                    attachment,
                    sha256,
                    bytes,
                })
            })
            .collect())
    }

    async fn stored_content_hashes(&self) -> Result<Vec<String>, StoreError> {
        let s = self.lock();
        Ok(s.contents
            .keys()
            .filter_map(|(number, id)| {
                s.cases
                    .get(number)
                    .and_then(|c| c.attachments.iter().find(|a| a.id == *id))
                    .map(|a| a.sha256.clone())
            })
            .collect())
    }

    async fn drop_stored_content(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<(), StoreError> {
        self.lock().contents.remove(&(number, attachment));
        Ok(())
    }

    async fn count_by_state(&self) -> Result<Vec<(CaseState, u64)>, StoreError> {
        let s = self.lock();
        Ok(CaseState::ALL
            .into_iter()
            .map(|state| {
                let n = s.cases.values().filter(|c| c.state == state).count();
                (state, n as u64)
            })
            .collect())
    }
}

#[async_trait]
impl AttachmentContentStore for MemoryStore {
    async fn put(
        &self,
        number: CaseNumber,
        attachment: u32,
        content: Bytes,
    ) -> Result<(), StoreError> {
        self.lock().contents.insert((number, attachment), content);
        Ok(())
    }

    async fn get(&self, number: CaseNumber, attachment: u32) -> Result<Option<Bytes>, StoreError> {
        Ok(self.lock().contents.get(&(number, attachment)).cloned())
    }
}

#[async_trait]
impl ContactDirectory for MemoryStore {
    async fn contact(&self, authorization: &AuthorizationId) -> Result<Option<String>, StoreError> {
        Ok(self.lock().contacts.get(authorization).cloned())
    }

    async fn set_contact(
        &self,
        authorization: &AuthorizationId,
        email: &str,
    ) -> Result<(), StoreError> {
        self.lock()
            .contacts
            .insert(authorization.clone(), email.to_owned());
        Ok(())
    }
}

impl State {
    fn message(&mut self, id: u64) -> Option<&mut OutboxMessage> {
        // Ids are 1-based positions in emission order.
        let index = usize::try_from(id.checked_sub(1)?).ok()?;
        self.outbox.get_mut(index)
    }

    fn listed(&self, state: DeliveryState, limit: usize) -> Vec<OutboxMessage> {
        self.outbox
            .iter()
            .filter(|m| m.state == state)
            .take(limit)
            .cloned()
            .collect()
    }

    fn count(&self, state: DeliveryState) -> u64 {
        self.outbox.iter().filter(|m| m.state == state).count() as u64
    }
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: TimeDelta,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut s = self.lock();
        let mut claimed = Vec::new();
        for m in &mut s.outbox {
            if claimed.len() == limit {
                break;
            }
            if m.claim(now, lease) {
                claimed.push(m.clone());
            }
        }
        Ok(claimed)
    }

    async fn mark_delivered(
        &self,
        id: u64,
        recipient: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(m) = self.lock().message(id) {
            m.deliver(recipient, at);
        }
        Ok(())
    }

    async fn record_failure(&self, id: u64, failure: &DeliveryFailure) -> Result<(), StoreError> {
        if let Some(m) = self.lock().message(id) {
            m.fail(failure);
        }
        Ok(())
    }

    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        Ok(self.lock().listed(DeliveryState::Pending, limit))
    }

    async fn list_dead(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        Ok(self.lock().listed(DeliveryState::Dead, limit))
    }

    async fn retry(&self, id: u64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self.lock().message(id).is_some_and(|m| m.retry(now)))
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        Ok(self.lock().count(DeliveryState::Pending))
    }

    async fn dead_count(&self) -> Result<u64, StoreError> {
        Ok(self.lock().count(DeliveryState::Dead))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::NotificationKind;
    use futures_executor::block_on;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn store_with(n: u32) -> MemoryStore {
        let store = MemoryStore::new();
        let notifications: Vec<Notification> = (1..=n)
            .map(|i| Notification {
                kind: NotificationKind::CaseSubmitted,
                case_number: CaseNumber::new(2026, i).expect("number"),
                authorization: AuthorizationId::parse("A1").expect("id"),
                at: at("2026-11-05T09:00:00Z"),
                deadline: None,
                text: None,
            })
            .collect();
        store.lock().enqueue(&notifications);
        store
    }

    fn failure(retry_at: Option<DateTime<Utc>>) -> DeliveryFailure {
        DeliveryFailure {
            recipient: Some("a1@example.es".into()),
            error: "421 try later".into(),
            retry_at,
        }
    }

    #[test]
    fn a_claim_holds_messages_for_its_lease_and_counts_an_attempt() {
        let s = store_with(3);
        let now = at("2026-11-05T09:00:00Z");
        let lease = TimeDelta::minutes(10);
        let first = block_on(s.claim_due(now, 2, lease)).expect("claim");
        assert_eq!(first.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2]);
        assert!(first.iter().all(|m| m.attempts == 1));
        assert_eq!(first[0].held_until, Some(now + lease));
        let second = block_on(s.claim_due(now, 10, lease)).expect("claim");
        assert_eq!(second.iter().map(|m| m.id).collect::<Vec<_>>(), [3]);
        assert!(
            block_on(s.claim_due(now, 10, lease))
                .expect("claim")
                .is_empty()
        );
        // The lease ends (the relay died mid-send): claimable again.
        let later = now + lease;
        let again = block_on(s.claim_due(later, 10, lease)).expect("claim");
        assert_eq!(again.len(), 3);
        assert_eq!(again[0].attempts, 2);
        assert_eq!(block_on(s.backlog()).expect("backlog"), 3);
    }

    #[test]
    fn failures_back_off_then_die_and_an_operator_retries() {
        let s = store_with(2);
        let now = at("2026-11-05T09:00:00Z");
        let lease = TimeDelta::minutes(10);
        block_on(s.claim_due(now, 10, lease)).expect("claim");
        let retry_at = now + TimeDelta::seconds(60);
        block_on(s.record_failure(1, &failure(Some(retry_at)))).expect("failure");
        block_on(s.record_failure(2, &failure(None))).expect("failure");
        let pending = block_on(s.pending(10)).expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].next_attempt_at, Some(retry_at));
        assert_eq!(pending[0].held_until, None);
        assert_eq!(pending[0].last_error.as_deref(), Some("421 try later"));
        assert_eq!(pending[0].recipient.as_deref(), Some("a1@example.es"));
        // Not before its retry instant, even though no relay holds it.
        let early = now + TimeDelta::seconds(59);
        assert!(
            block_on(s.claim_due(early, 10, lease))
                .expect("claim")
                .is_empty()
        );
        assert_eq!(
            block_on(s.claim_due(retry_at, 10, lease)).expect("claim")[0].id,
            1
        );
        assert_eq!(block_on(s.dead_count()).expect("dead"), 1);
        let dead = block_on(s.list_dead(10)).expect("dead");
        assert_eq!((dead[0].id, dead[0].state), (2, DeliveryState::Dead));
        assert_eq!(block_on(s.backlog()).expect("backlog"), 1);
        // A dead message is not claimed; a retry makes it pending, attempts reset.
        assert!(!block_on(s.retry(1, now)).expect("retry pending"));
        assert!(!block_on(s.retry(99, now)).expect("retry unknown"));
        assert!(block_on(s.retry(2, retry_at)).expect("retry dead"));
        let revived = block_on(s.pending(10)).expect("pending");
        assert_eq!(revived[1].id, 2);
        assert_eq!(revived[1].attempts, 0);
        assert_eq!(block_on(s.dead_count()).expect("dead"), 0);
    }

    #[test]
    fn delivery_is_final() {
        let s = store_with(1);
        let now = at("2026-11-05T09:00:00Z");
        block_on(s.claim_due(now, 10, TimeDelta::minutes(1))).expect("claim");
        block_on(s.mark_delivered(1, "a1@example.es", now)).expect("delivered");
        block_on(s.mark_delivered(u64::MAX, "x@example.es", now)).expect("unknown id");
        // A late failure report of another relay changes nothing.
        block_on(s.record_failure(1, &failure(None))).expect("failure");
        let m = &s.outbox_snapshot()[0];
        assert_eq!(m.state, DeliveryState::Delivered);
        assert_eq!(m.delivered_at, Some(now));
        assert_eq!(m.last_error, None);
        assert_eq!(block_on(s.backlog()).expect("backlog"), 0);
        let later = now + TimeDelta::hours(1);
        assert!(
            block_on(s.claim_due(later, 10, TimeDelta::minutes(1)))
                .expect("claim")
                .is_empty()
        );
    }
}
