//! Who runs a command (DOMAIN.md §1) and what each role may see.

use serde::{Deserialize, Serialize};

use crate::ids::{AuthorizationId, OfficeCode, ProcessorId, ProvinceCode, UserId};

/// The three roles of DOMAIN.md §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Processor,
    System,
}

impl Role {
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
        authorization: AuthorizationId,
        user: UserId,
        /// INE code of the autorizado's domicile: routes the case.
        province: ProvinceCode,
    },
    /// A TGSS processor of a dirección provincial.
    Processor {
        processor: ProcessorId,
        office: OfficeCode,
    },
    /// The service itself (deadline sweep).
    System,
}

impl Actor {
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
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}
