//! Notifications as e-mail (DOMAIN.md §9): the Spanish text of each kind,
//! with the case number, what happened, the classification, the
//! observation or resolution and the deadline in Madrid time; and the
//! message around it (From, To, Subject, a Message-ID derived from the
//! outbox id so a re-sent message is recognisable as the same one).
//! Presentation only: what to tell and when is the core's decision.

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::SystemTime;

use casia_core::calendar::madrid_date;
use casia_core::catalog::Catalog;
use casia_core::deadline::overdue_from;
use casia_core::receipt::madrid_timestamp;
use casia_core::{Case, Notification, NotificationKind};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use lettre::Address;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};

/// The longest address SMTP carries (RFC 5321 §4.5.3.1.3, less the
/// angle brackets).
const MAX_ADDRESS_LEN: usize = 254;

/// An e-mail address as CASIA stores and sends to it: `local@domain`,
/// trimmed, at most 254 characters, no display name.
///
/// # Errors
///
/// A message saying why: empty, too long, or not an address.
pub fn parse_address(raw: &str) -> Result<Address, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("the address is empty".into());
    }
    if text.len() > MAX_ADDRESS_LEN {
        return Err(format!(
            "the address is longer than {MAX_ADDRESS_LEN} characters"
        ));
    }
    Address::from_str(text).map_err(|e| format!("{text:?} is not an e-mail address: {e}"))
}

/// Who the mail comes from, and the domain of its Message-IDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailIdentity {
    from: Mailbox,
    domain: String,
}

/// The default `--mail-from`.
pub const DEFAULT_FROM: &str = "casia@localhost";

impl MailIdentity {
    /// `from` is an address, optionally with a display name (`CASIA
    /// <casia@example.es>`); the Message-ID domain defaults to its domain.
    ///
    /// # Errors
    ///
    /// A message naming `--mail-from` or `--mail-domain` when either is
    /// malformed.
    pub fn new(from: &str, domain: Option<&str>) -> Result<MailIdentity, String> {
        let from = Mailbox::from_str(from.trim())
            .map_err(|e| format!("--mail-from {from:?} is not a mailbox: {e}"))?;
        let domain = match domain.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => {
                let valid = d.len() <= 253
                    && d.split('.').all(|label| {
                        (1..=63).contains(&label.len())
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    });
                if !valid {
                    return Err(format!("--mail-domain {d:?} is not a domain name"));
                }
                d.to_ascii_lowercase()
            }
            None => from.email.domain().to_ascii_lowercase(),
        };
        Ok(MailIdentity { from, domain })
    }

    /// The `From` mailbox.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The domain of Message-IDs, also the relay's EHLO name.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `<casia-notification-{id}@{domain}>`: the same for every attempt at
    /// one outbox message, so a copy sent twice after an uncertain send is
    /// recognisably one message (RFC 5322 §3.6.4).
    pub fn message_id(&self, outbox_id: u64) -> String {
        format!("<casia-notification-{outbox_id}@{}>", self.domain)
    }
}

/// What a mail says of its case beyond the notification: its title and
/// classification, labelled from the catalog in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    /// The case title.
    pub title: String,
    /// `Consulta › Afiliación › Altas › Plazos de alta`.
    pub classification: String,
}

impl CaseSummary {
    /// Labels from `catalog`; a code the catalog no longer has is shown as
    /// the code.
    pub fn of(case: &Case, catalog: &Catalog) -> CaseSummary {
        let entry = catalog.case_type(case.case_type);
        let materia = entry.and_then(|t| t.materias.iter().find(|m| m.code == case.materia));
        let category = materia.and_then(|m| m.categories.iter().find(|c| c.code == case.category));
        let subcategory =
            category.and_then(|c| c.subcategories.iter().find(|s| s.code == case.subcategory));
        let classification = [
            case.case_type.label_es(),
            materia.map_or(case.materia.as_str(), |m| m.label.as_str()),
            category.map_or(case.category.as_str(), |c| c.label.as_str()),
            subcategory.map_or(case.subcategory.as_str(), |s| s.label.as_str()),
        ]
        .join(" › ");
        CaseSummary {
            title: case.title.as_str().to_owned(),
            classification,
        }
    }
}

/// A mail's subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// The `Subject` line, in Spanish.
    pub subject: String,
    /// The plain-text body, in Spanish.
    pub body: String,
}

const WEEKDAYS: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];

const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// `miércoles 25 de noviembre de 2026`.
pub fn long_date(d: NaiveDate) -> String {
    let weekday = WEEKDAYS[d.weekday().num_days_from_monday() as usize];
    let month = MONTHS[d.month0() as usize];
    format!("{weekday} {} de {month} de {}", d.day(), d.year())
}

/// `25/11/2026`.
pub fn short_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// The deadline sentence (DOMAIN.md §5: in time during the whole deadline
/// date, overdue from 00:00 Europe/Madrid of the next day).
fn deadline_paragraph(out: &mut String, deadline: NaiveDate, lead: &str) {
    let _ = writeln!(
        out,
        "{lead} hasta las 23:59 del {}, inclusive (hora de Madrid).",
        long_date(deadline)
    );
    let overdue = overdue_from(deadline);
    let _ = writeln!(
        out,
        "Si no se aporta en plazo, el caso se cerrará de oficio a partir de las 00:00 del {} ({}).",
        long_date(madrid_date(overdue)),
        madrid_timestamp(overdue)
    );
}

/// Indents every line of a free text (observation, resolution).
fn quoted(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "  {line}");
    }
}

/// The Spanish subject and body of a notification (DOMAIN.md §9).
pub fn render(n: &Notification, case: Option<&CaseSummary>) -> RenderedMail {
    let number = n.case_number;
    let what = match n.kind {
        NotificationKind::CaseSubmitted => "caso registrado".to_owned(),
        NotificationKind::InformationRequested => match n.deadline {
            Some(d) => format!("se solicita información (plazo: {})", short_date(d)),
            None => "se solicita información".to_owned(),
        },
        NotificationKind::DeadlineApproaching => match n.deadline {
            Some(d) => format!(
                "el plazo para aportar información vence el {}",
                short_date(d)
            ),
            None => "el plazo para aportar información está próximo a vencer".to_owned(),
        },
        NotificationKind::CaseResolved => "caso resuelto".to_owned(),
        NotificationKind::CaseClosedExOfficio => "caso cerrado de oficio".to_owned(),
    };
    let subject = format!("CASIA {number}: {what}");

    let mut body = String::with_capacity(1024);
    body.push_str("Estimado/a autorizado/a del Sistema RED:\n\n");
    match n.kind {
        NotificationKind::CaseSubmitted => {
            let _ = writeln!(
                body,
                "Su caso {number} ha quedado registrado en CASIA. Puede descargar el justificante de apertura desde CASIA."
            );
        }
        NotificationKind::InformationRequested => {
            let _ = writeln!(
                body,
                "En su caso {number} se le solicita información o documentación adicional."
            );
            if let Some(text) = &n.text {
                body.push_str("\nObservación de la TGSS:\n");
                quoted(&mut body, text);
            }
            if let Some(d) = n.deadline {
                body.push('\n');
                deadline_paragraph(&mut body, d, "Plazo para aportarla:");
            }
        }
        NotificationKind::DeadlineApproaching => {
            let _ = writeln!(
                body,
                "Le recordamos que en su caso {number} sigue pendiente la información solicitada."
            );
            if let Some(d) = n.deadline {
                body.push('\n');
                deadline_paragraph(&mut body, d, "Puede aportarla");
            }
        }
        NotificationKind::CaseResolved => {
            let _ = writeln!(body, "Su caso {number} ha sido resuelto.");
            if let Some(text) = &n.text {
                body.push_str("\nResolución:\n");
                quoted(&mut body, text);
            }
            body.push_str("\nPuede valorar la atención recibida desde CASIA.\n");
        }
        NotificationKind::CaseClosedExOfficio => {
            let _ = write!(
                body,
                "Su caso {number} se ha cerrado de oficio porque la información solicitada no se aportó dentro del plazo"
            );
            match n.deadline {
                Some(d) => {
                    let _ = writeln!(
                        body,
                        ", que venció a las 23:59 del {} (hora de Madrid).",
                        long_date(d)
                    );
                }
                None => body.push_str(".\n"),
            }
        }
    }
    body.push_str("\nDatos del caso\n");
    let _ = writeln!(body, "  Número: {number}");
    let _ = writeln!(body, "  Autorización: {}", n.authorization);
    if let Some(c) = case {
        let _ = writeln!(body, "  Asunto: {}", c.title);
        let _ = writeln!(body, "  Clasificación: {}", c.classification);
    }
    let _ = writeln!(body, "  Fecha del aviso: {}", madrid_timestamp(n.at));
    body.push_str(
        "\nPuede consultar el caso en CASIA con su número.\n\n\
         Este mensaje se ha enviado automáticamente; no responda a esta dirección.\n\
         CASIA · Tesorería General de la Seguridad Social\n",
    );
    RenderedMail { subject, body }
}

/// The message of one outbox entry to `to`, dated `date`.
pub fn message(
    identity: &MailIdentity,
    outbox_id: u64,
    to: &Address,
    n: &Notification,
    mail: &RenderedMail,
    date: DateTime<Utc>,
) -> Result<Message, String> {
    let mut m = Message::builder()
        .from(identity.from().clone())
        .to(Mailbox::new(None, to.clone()))
        .subject(mail.subject.clone())
        .message_id(Some(identity.message_id(outbox_id)))
        .date(SystemTime::from(date))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| format!("cannot build the message: {e}"))?;
    let headers = m.headers_mut();
    // RFC 3834: no auto-replies to an automatic message.
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".to_owned(),
    ));
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("X-CASIA-Case"),
        n.case_number.to_string(),
    ));
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("X-CASIA-Notification"),
        n.kind.as_str().to_owned(),
    ));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use casia_core::{AuthorizationId, CaseNumber};

    fn notification(kind: NotificationKind) -> Notification {
        Notification {
            kind,
            case_number: CaseNumber::new(2026, 7).expect("number"),
            authorization: AuthorizationId::parse("A1").expect("id"),
            at: "2026-11-05T09:00:00Z".parse().expect("instant"),
            deadline: "2026-11-25".parse().ok(),
            text: Some("Aporte la vida laboral.\nY el contrato.".into()),
        }
    }

    #[test]
    fn dates_read_in_spanish() {
        let d: NaiveDate = "2026-11-25".parse().expect("date");
        assert_eq!(long_date(d), "miércoles 25 de noviembre de 2026");
        assert_eq!(short_date(d), "25/11/2026");
    }

    #[test]
    fn an_information_request_names_observation_deadline_and_closing_instant() {
        let summary = CaseSummary {
            title: "Plazos de alta".into(),
            classification: "Consulta › Afiliación › Altas › Plazos".into(),
        };
        let m = render(
            &notification(NotificationKind::InformationRequested),
            Some(&summary),
        );
        assert_eq!(
            m.subject,
            "CASIA 2026-00000007: se solicita información (plazo: 25/11/2026)"
        );
        for needle in [
            "  Aporte la vida laboral.\n  Y el contrato.\n",
            "hasta las 23:59 del miércoles 25 de noviembre de 2026, inclusive (hora de Madrid)",
            "a partir de las 00:00 del jueves 26 de noviembre de 2026 (2026-11-26 00:00:00 CET)",
            "Clasificación: Consulta › Afiliación › Altas › Plazos",
            "Asunto: Plazos de alta",
            "Fecha del aviso: 2026-11-05 10:00:00 CET",
        ] {
            assert!(m.body.contains(needle), "{needle:?} not in\n{}", m.body);
        }
    }

    #[test]
    fn every_kind_has_its_own_subject() {
        let subjects: Vec<String> = NotificationKind::ALL
            .into_iter()
            .map(|k| render(&notification(k), None).subject)
            .collect();
        assert_eq!(
            subjects,
            [
                "CASIA 2026-00000007: caso registrado",
                "CASIA 2026-00000007: se solicita información (plazo: 25/11/2026)",
                "CASIA 2026-00000007: el plazo para aportar información vence el 25/11/2026",
                "CASIA 2026-00000007: caso resuelto",
                "CASIA 2026-00000007: caso cerrado de oficio",
            ]
        );
        let closed = render(&notification(NotificationKind::CaseClosedExOfficio), None);
        assert!(
            closed
                .body
                .contains("que venció a las 23:59 del miércoles 25 de noviembre de 2026")
        );
    }

    #[test]
    fn identities_and_addresses_are_checked() {
        let id = MailIdentity::new("CASIA <avisos@casia.example.es>", None).expect("identity");
        assert_eq!(id.domain(), "casia.example.es");
        assert_eq!(
            id.message_id(42),
            "<casia-notification-42@casia.example.es>"
        );
        let id = MailIdentity::new(DEFAULT_FROM, Some("Seg-Social.es")).expect("identity");
        assert_eq!(id.message_id(1), "<casia-notification-1@seg-social.es>");
        assert!(MailIdentity::new("not a mailbox", None).is_err());
        assert!(MailIdentity::new(DEFAULT_FROM, Some("bad domain")).is_err());
        assert_eq!(
            parse_address(" gestoria@example.com ").map(|a| a.to_string()),
            Ok("gestoria@example.com".to_owned())
        );
        assert!(parse_address("").is_err());
        assert!(parse_address("gestoria").is_err());
        assert!(parse_address("a@b@c").is_err());
        assert!(parse_address(&format!("{}@example.com", "x".repeat(250))).is_err());
    }

    #[test]
    fn the_message_carries_its_stable_id_and_headers() {
        let id = MailIdentity::new("casia@example.es", None).expect("identity");
        let n = notification(NotificationKind::CaseResolved);
        let rendered = render(&n, None);
        let to = parse_address("a1@example.com").expect("address");
        let m = message(&id, 9, &to, &n, &rendered, n.at).expect("message");
        let text = String::from_utf8(m.formatted()).expect("utf8");
        for needle in [
            "Message-ID: <casia-notification-9@example.es>\r\n",
            "To: a1@example.com\r\n",
            "From: casia@example.es\r\n",
            "Auto-Submitted: auto-generated\r\n",
            "X-CASIA-Case: 2026-00000007\r\n",
            "X-CASIA-Notification: case_resolved\r\n",
            "Date: Thu, 05 Nov 2026 09:00:00 +0000\r\n",
        ] {
            assert!(text.contains(needle), "{needle:?} not in\n{text}");
        }
    }
}
