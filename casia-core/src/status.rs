//! Status and substatus (DOMAIN.md §3) as nested enums: the substatus
//! determines the status, so an impossible pair cannot be written.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Substates of an open case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpenSubstatus {
    /// `submitted` — Presentado: filed by the user.
    Submitted,
    /// `assigned` — Asignado: a processor is working it.
    Assigned,
    /// `information_requested` — Solicitada Información: a documentation deadline runs.
    InformationRequested,
    /// `escalated` — Escalado: internal TGSS handling.
    Escalated,
    /// `transferred` — Transferido: moved to another office, awaiting assignment there.
    Transferred,
}

/// Substates of a closed case. Closed is terminal (DOMAIN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClosedSubstatus {
    /// `cancelled` — Anulado: cancelled at the user's request.
    Cancelled,
    /// `resolved` — Resuelto: the processor answered; only a survey may still be recorded.
    Resolved,
    /// `closed_ex_officio` — De oficio: closed because the information deadline passed.
    ClosedExOfficio,
}

/// A case's state: `open` or `closed`, each with its substates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseState {
    /// `open` (Abierto) with its substatus.
    Open(OpenSubstatus),
    /// `closed` (Cerrado) with its substatus; terminal.
    Closed(ClosedSubstatus),
}

/// The coarse status (estado), as searched by (DOMAIN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// `open` — Abierto.
    Open,
    /// `closed` — Cerrado.
    Closed,
}

impl Status {
    /// The wire code: `open` or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }

    /// Spanish label (Abierto/Cerrado).
    pub fn label_es(self) -> &'static str {
        match self {
            Status::Open => "Abierto",
            Status::Closed => "Cerrado",
        }
    }

    /// Parses `open` or `closed`; `None` otherwise (`all` is a search option, not a status).
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "open" => Some(Status::Open),
            "closed" => Some(Status::Closed),
            _ => None,
        }
    }
}

impl CaseState {
    /// Every state, for exhaustive tests and parsing.
    pub const ALL: [CaseState; 8] = [
        CaseState::Open(OpenSubstatus::Submitted),
        CaseState::Open(OpenSubstatus::Assigned),
        CaseState::Open(OpenSubstatus::InformationRequested),
        CaseState::Open(OpenSubstatus::Escalated),
        CaseState::Open(OpenSubstatus::Transferred),
        CaseState::Closed(ClosedSubstatus::Cancelled),
        CaseState::Closed(ClosedSubstatus::Resolved),
        CaseState::Closed(ClosedSubstatus::ClosedExOfficio),
    ];

    /// The status the substatus belongs to.
    pub fn status(self) -> Status {
        match self {
            CaseState::Open(_) => Status::Open,
            CaseState::Closed(_) => Status::Closed,
        }
    }

    /// Whether the case is closed (terminal, DOMAIN.md §3).
    pub fn is_closed(self) -> bool {
        matches!(self, CaseState::Closed(_))
    }

    /// The substatus wire code (DOMAIN.md §3).
    pub fn substatus_code(self) -> &'static str {
        match self {
            CaseState::Open(OpenSubstatus::Submitted) => "submitted",
            CaseState::Open(OpenSubstatus::Assigned) => "assigned",
            CaseState::Open(OpenSubstatus::InformationRequested) => "information_requested",
            CaseState::Open(OpenSubstatus::Escalated) => "escalated",
            CaseState::Open(OpenSubstatus::Transferred) => "transferred",
            CaseState::Closed(ClosedSubstatus::Cancelled) => "cancelled",
            CaseState::Closed(ClosedSubstatus::Resolved) => "resolved",
            CaseState::Closed(ClosedSubstatus::ClosedExOfficio) => "closed_ex_officio",
        }
    }

    /// The substatus label shown to people (DOMAIN.md §3).
    pub fn label_es(self) -> &'static str {
        match self {
            CaseState::Open(OpenSubstatus::Submitted) => "Presentado",
            CaseState::Open(OpenSubstatus::Assigned) => "Asignado",
            CaseState::Open(OpenSubstatus::InformationRequested) => "Solicitada Información",
            CaseState::Open(OpenSubstatus::Escalated) => "Escalado",
            CaseState::Open(OpenSubstatus::Transferred) => "Transferido",
            CaseState::Closed(ClosedSubstatus::Cancelled) => "Anulado",
            CaseState::Closed(ClosedSubstatus::Resolved) => "Resuelto",
            CaseState::Closed(ClosedSubstatus::ClosedExOfficio) => "De oficio",
        }
    }

    /// Parses a substatus wire code; the status follows from it.
    pub fn from_substatus_code(code: &str) -> Option<CaseState> {
        CaseState::ALL
            .into_iter()
            .find(|s| s.substatus_code() == code)
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.status().as_str(), self.substatus_code())
    }
}

/// Serialised as its substatus code; the status is derived.
impl Serialize for CaseState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.substatus_code())
    }
}

impl<'de> Deserialize<'de> for CaseState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CaseState::from_substatus_code(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown substatus {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substatus_determines_status_as_in_the_table() {
        let open = [
            "submitted",
            "assigned",
            "information_requested",
            "escalated",
            "transferred",
        ];
        let closed = ["cancelled", "resolved", "closed_ex_officio"];
        for code in open {
            let s = CaseState::from_substatus_code(code).expect(code);
            assert_eq!(s.status(), Status::Open);
            assert_eq!(s.substatus_code(), code);
        }
        for code in closed {
            let s = CaseState::from_substatus_code(code).expect(code);
            assert_eq!(s.status(), Status::Closed);
            assert!(s.is_closed());
        }
        assert_eq!(CaseState::from_substatus_code("open"), None);
    }

    #[test]
    fn labels_are_the_spanish_ones() {
        let label = |c| CaseState::from_substatus_code(c).map(CaseState::label_es);
        assert_eq!(
            label("information_requested"),
            Some("Solicitada Información")
        );
        assert_eq!(label("closed_ex_officio"), Some("De oficio"));
        assert_eq!(label("cancelled"), Some("Anulado"));
        assert_eq!(Status::Open.label_es(), "Abierto");
    }
}
