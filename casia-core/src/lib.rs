//! `casia-core`: the CASIA domain (DOMAIN.md) as a pure, typed API — no
//! runtime, database or web crate. Time comes from the [`ports::Clock`] port,
//! storage from [`ports::CaseRepository`]; [`memory`] implements every port
//! in memory.
//!
//! Where each rule lives: parties and visibility → [`actor`], [`case`];
//! identifiers → [`ids`]; catalog → [`catalog`]; states → [`status`];
//! submission → [`submission`], [`complementary`], [`text`]; commands and the
//! transition table → [`command`]; deadline rule → [`deadline`],
//! [`calendar`]; attachments → [`attachment`]; search, work queue → [`search`];
//! receipt → [`receipt`]; notifications → [`notification`]; concurrency and
//! the sweep → [`service`]; error codes → [`error`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod actor;
pub mod attachment;
pub mod blob;
pub mod calendar;
pub mod case;
mod case_lock;
pub mod catalog;
pub mod command;
pub mod complementary;
pub mod contact;
pub mod deadline;
pub mod error;
pub mod idempotency;
pub mod ids;
pub mod memory;
pub mod notification;
pub mod outbox;
pub mod ports;
pub mod receipt;
pub mod rules;
pub mod search;
pub mod service;
pub mod status;
pub mod submission;
pub mod text;

pub use actor::{Actor, ActorRef, Role};
pub use attachment::Attachment;
/// Attachment bytes (`bytes::Bytes`): shared and immutable, passed from
/// the request body to the store without copies.
pub use bytes::Bytes;
pub use case::{Case, HistoryEntry, HistoryEvent, Visibility};
pub use catalog::{CaseType, Catalog};
pub use command::Command;
pub use error::{CasiaError, ErrorCode, RejectionReason, ServiceError, StoreError};
pub use ids::{AuthorizationId, CaseNumber, OfficeCode, ProcessorId, ProvinceCode, UserId};
pub use notification::{Notification, NotificationKind};
pub use rules::CaseRules;
pub use service::{
    BlobCollection, BlobMigration, BlobVerification, CaseService, Outcome, SweepReport,
};
pub use status::{CaseState, ClosedSubstatus, OpenSubstatus, Status};
pub use submission::SubmitInput;
