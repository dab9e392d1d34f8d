//! Who runs a command (DOMAIN.md §1) and what each role may see.

use serde::{Deserialize, Serialize};

use crate::ids::{AuthorizationId, OfficeCode, ProcessorId, ProvinceCode, UserId};

/// The three roles of DOMAIN.md §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// `user` — usuario de la autorización: a person working for an autorizado RED.
    User,
    /// `processor` — tramitador of a TGSS dirección provincial.
    Processor,
    /// `system` — the service itself (the deadline sweep).
    System,
}

impl Role {
    /// The wire code: `user`, `processor` or `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Processor => "processor",
            Role::System => "system",
        }
    }
}

/// An authenticated party, with the identity fields of its role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Actor {
    /// A person working for an autorizado RED.
    User {
        /// The autorizado RED the user works for; the user sees every case of it.
        authorization: AuthorizationId,
        /// The user's own id.
        user: UserId,
        /// INE code of the autorizado's domicile: routes the case.
        province: ProvinceCode,
    },
    /// A TGSS processor of a dirección provincial.
    Processor {
        /// The processor's id.
        processor: ProcessorId,
        /// The dirección provincial (two-digit province code) whose routed cases the processor
        /// sees.
        office: OfficeCode,
    },
    /// The service itself (deadline sweep).
    System,
}

impl Actor {
    /// The actor's [`Role`].
    pub fn role(&self) -> Role {
        match self {
            Actor::User { .. } => Role::User,
            Actor::Processor { .. } => Role::Processor,
            Actor::System => Role::System,
        }
    }

    /// The reference recorded in history and on attachments.
    pub fn reference(&self) -> ActorRef {
        match self {
            Actor::User { user, .. } => ActorRef {
                role: Role::User,
                id: Some(user.as_str().to_owned()),
            },
            Actor::Processor { processor, .. } => ActorRef {
                role: Role::Processor,
                id: Some(processor.as_str().to_owned()),
            },
            Actor::System => ActorRef {
                role: Role::System,
                id: None,
            },
        }
    }
}

/// A recorded actor: role and id (none for the system).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActorRef {
    /// The actor's role.
    pub role: Role,
    /// The user or processor id; `None` for the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}
