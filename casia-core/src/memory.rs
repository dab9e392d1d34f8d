//! In-memory adapters for every port: good enough for embedders, examples
//! and every test. One mutex makes each write atomic and numbering gap-free.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::case::Case;
use crate::command::Change;
use crate::error::StoreError;
use crate::ids::{AuthorizationId, CaseNumber, OfficeCode};
use crate::notification::Notification;
use crate::ports::{
    AttachmentContentStore, CaseRepository, ContactDirectory, Outbox, OutboxMessage,
};
use crate::search::{SearchFilter, in_queue, queue_order, search_order};
use crate::status::{CaseState, OpenSubstatus};
use crate::submission::{CaseDraft, NewCase};

#[derive(Debug, Default)]
struct State {
    cases: BTreeMap<CaseNumber, Case>,
    last_sequence: HashMap<i32, u32>,
    contents: HashMap<(CaseNumber, u32), Arc<[u8]>>,
    receipt_codes: HashMap<String, CaseNumber>,
    outbox: Vec<OutboxMessage>,
    contacts: HashMap<AuthorizationId, String>,
}

impl State {
    fn enqueue(&mut self, notifications: &[Notification]) {
        for n in notifications {
            let id = self.outbox.len() as u64 + 1;
            self.outbox.push(OutboxMessage {
                id,
                notification: n.clone(),
                delivered: false,
                attempts: 0,
            });
        }
    }
}

/// The in-memory store: repository, content store, contacts and outbox.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
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
            StoreError::Backend(format!("case numbers of {} exhausted", draft.year()))
        })?;
        let created = draft.complete(number);
        s.last_sequence.insert(draft.year(), next);
        for a in &created.attachments {
            s.contents
                .insert((number, a.meta.id), Arc::clone(&a.content));
        }
        s.receipt_codes
            .insert(created.case.receipt.verification_code.clone(), number);
        s.enqueue(&created.notifications);
        s.cases.insert(number, created.case.clone());
        Ok(created)
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
        for a in &change.new_attachments {
            s.contents
                .insert((number, a.meta.id), Arc::clone(&a.content));
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
    ) -> Result<Option<Arc<[u8]>>, StoreError> {
        Ok(self.lock().contents.get(&(number, attachment)).cloned())
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
        content: Arc<[u8]>,
    ) -> Result<(), StoreError> {
        self.lock().contents.insert((number, attachment), content);
        Ok(())
    }

    async fn get(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Arc<[u8]>>, StoreError> {
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

#[async_trait]
impl Outbox for MemoryStore {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        Ok(self
            .lock()
            .outbox
            .iter()
            .filter(|m| !m.delivered)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn mark_delivered(&self, id: u64) -> Result<(), StoreError> {
        if let Some(m) = self.lock().outbox.iter_mut().find(|m| m.id == id) {
            m.delivered = true;
        }
        Ok(())
    }

    async fn record_failure(&self, id: u64) -> Result<(), StoreError> {
        if let Some(m) = self.lock().outbox.iter_mut().find(|m| m.id == id) {
            m.attempts += 1;
        }
        Ok(())
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        Ok(self.lock().outbox.iter().filter(|m| !m.delivered).count() as u64)
    }
}
