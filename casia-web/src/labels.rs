//! What people read: the Spanish labels of fields, history events and
//! error codes, and the form field each domain error belongs to.
//!
//! The codes are DOMAIN.md's (§4 fields, §6 rejection reasons, §7 events,
//! "Error codes"); the words are those of the Sistema RED screens (*Datos
//! complementarios*, *Anexar información*, *Justificante*).

use casia_core::complementary::FieldCode;
use casia_core::error::RejectionReason;
use casia_core::{CasiaError, HistoryEvent};

/// The label and format hint of a complementary-data field (DOMAIN.md §4).
pub fn complementary_field(code: FieldCode) -> (&'static str, &'static str) {
    match code {
        FieldCode::Ccc => (
            "Código de Cuenta de Cotización (CCC)",
            "11 dígitos: provincia, número y dígito de control.",
        ),
        FieldCode::Naf => (
            "Número de afiliación (NAF)",
            "12 dígitos: provincia, número y dígito de control.",
        ),
        FieldCode::Nif => (
            "NIF, NIE o CIF",
            "Con su letra o dígito de control, por ejemplo 12345678Z o X1234567L.",
        ),
        FieldCode::Reference => ("Referencia", "Texto libre de 1 a 200 caracteres."),
        FieldCode::SettlementPeriod => (
            "Periodo de liquidación",
            "AAAA-MM, por ejemplo 2026-10; no posterior al mes en curso.",
        ),
        FieldCode::SubmissionCode => (
            "Código de envío",
            "De 1 a 30 letras mayúsculas o dígitos del envío RED.",
        ),
    }
}

/// The name of the form input of a complementary-data field: `dato_<code>`.
pub fn complementary_input(code: FieldCode) -> String {
    format!("dato_{}", code.as_str())
}

/// The Spanish name of a history event (DOMAIN.md §7).
pub fn event(e: HistoryEvent) -> &'static str {
    match e {
        HistoryEvent::Submitted => "Caso presentado",
        HistoryEvent::DocumentationAdded => "Documentación añadida",
        HistoryEvent::Cancelled => "Caso anulado",
        HistoryEvent::Assigned => "Caso asignado",
        HistoryEvent::InformationRequested => "Información solicitada",
        HistoryEvent::Escalated => "Caso escalado",
        HistoryEvent::Transferred => "Caso transferido",
        HistoryEvent::Reclassified => "Caso reclasificado",
        HistoryEvent::Resolved => "Caso resuelto",
        HistoryEvent::ClosedExOfficio => "Cerrado de oficio",
        HistoryEvent::SurveySubmitted => "Encuesta de satisfacción",
    }
}

/// Why an attachment was refused, in words (DOMAIN.md §6).
pub fn rejection(reason: RejectionReason) -> &'static str {
    match reason {
        RejectionReason::UnknownDocumentType => "elija un tipo de documento del catálogo",
        RejectionReason::InvalidTitle => "el título debe tener de 1 a 100 caracteres",
        RejectionReason::Empty => "el fichero está vacío",
        RejectionReason::TooLarge => "el fichero supera el tamaño máximo por documento",
        RejectionReason::UnsupportedFormat => {
            "formato no admitido (se admiten PDF, JPEG, PNG, TIFF, DOC, DOCX, XLS, XLSX, ODT, ODS, RTF, texto y XML)"
        }
        RejectionReason::TooMany => "el caso superaría el número máximo de documentos",
        RejectionReason::TotalTooLarge => {
            "el caso superaría el tamaño total máximo de sus documentos"
        }
    }
}

/// The INE province names, by code `01`–`52` (index code − 1): offices
/// are named by their province (DOMAIN.md §1).
pub const PROVINCES: [&str; 52] = [
    "Araba/Álava",
    "Albacete",
    "Alicante/Alacant",
    "Almería",
    "Ávila",
    "Badajoz",
    "Illes Balears",
    "Barcelona",
    "Burgos",
    "Cáceres",
    "Cádiz",
    "Castellón/Castelló",
    "Ciudad Real",
    "Córdoba",
    "A Coruña",
    "Cuenca",
    "Girona",
    "Granada",
    "Guadalajara",
    "Gipuzkoa",
    "Huelva",
    "Huesca",
    "Jaén",
    "León",
    "Lleida",
    "La Rioja",
    "Lugo",
    "Madrid",
    "Málaga",
    "Murcia",
    "Navarra",
    "Ourense",
    "Asturias",
    "Palencia",
    "Las Palmas",
    "Pontevedra",
    "Salamanca",
    "Santa Cruz de Tenerife",
    "Cantabria",
    "Segovia",
    "Sevilla",
    "Soria",
    "Tarragona",
    "Teruel",
    "Toledo",
    "Valencia/València",
    "Valladolid",
    "Bizkaia",
    "Zamora",
    "Zaragoza",
    "Ceuta",
    "Melilla",
];

/// A province or office as people read it: `28 (Madrid)`.
pub fn province(code: casia_core::ProvinceCode) -> String {
    let name = PROVINCES
        .get(usize::from(code.number()).saturating_sub(1))
        .copied()
        .unwrap_or("");
    format!("{code} ({name})")
}

/// A domain error as a page shows it: the form input it belongs to (when
/// it names one the form has; `None` puts it at the top of the form) and
/// the message in Spanish. `inputs` maps the error's field codes to the
/// form's input names. For an attachment error (whose `index` counts the
/// attachments sent, 0-based) it is asked for `adjunto_<n>_tipo`,
/// `adjunto_<n>_titulo` or `adjunto_<n>_fichero` (by the reason) and for
/// `documento_<n>`, the number the form shows that attachment under (`n`
/// is `index + 1`).
pub fn error_message(e: &CasiaError, inputs: &dyn Fn(&str) -> Option<String>) -> FieldError {
    let (field, message) = match e {
        CasiaError::NotFound => (None, "El caso no existe o no puede verlo.".to_owned()),
        CasiaError::Forbidden => (
            None,
            "Su perfil no puede realizar esta acción en este caso.".to_owned(),
        ),
        CasiaError::CaseClosed => (
            None,
            "El caso está cerrado: no admite esta acción.".to_owned(),
        ),
        CasiaError::TransitionNotAllowed => (
            None,
            "El caso no está en una situación que admita esta acción.".to_owned(),
        ),
        CasiaError::InvalidField { field, rule } => (
            inputs(field),
            format!("{}: {}.", field_name(field), rule_es(field, rule)),
        ),
        CasiaError::InvalidClassification { field } => (
            inputs(field),
            format!("{}: elija una opción del catálogo.", field_name(field)),
        ),
        CasiaError::NotHandledByCasia { message } => (inputs("subcategory"), message.clone()),
        CasiaError::InvalidComplementaryData { field } => {
            let hint = FieldCode::parse(field).map_or("", |c| complementary_field(c).1);
            (
                inputs(field),
                format!("{}: el valor no es válido. {hint}", field_name(field)),
            )
        }
        CasiaError::MissingComplementaryData { fields } => (
            fields.first().and_then(|f| inputs(f)),
            format!(
                "Indique al menos uno de estos datos: {}.",
                fields
                    .iter()
                    .map(|f| field_name(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        CasiaError::MissingRequiredDocuments { fields } => (
            inputs("adjunto_1_tipo"),
            format!(
                "Falta documentación obligatoria: {}.",
                fields
                    .iter()
                    .map(|f| inputs(&format!("document_type:{f}")).unwrap_or_else(|| f.clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        CasiaError::AttachmentRejected { reason, index } => {
            let n = index + 1;
            let part = match reason {
                RejectionReason::UnknownDocumentType => "tipo",
                RejectionReason::InvalidTitle => "titulo",
                _ => "fichero",
            };
            let shown = inputs(&format!("documento_{n}")).unwrap_or_else(|| n.to_string());
            (
                inputs(&format!("adjunto_{n}_{part}")),
                format!("Documento {shown}: {}.", rejection(*reason)),
            )
        }
        CasiaError::DuplicateAttachment { index } => {
            let n = index + 1;
            let shown = inputs(&format!("documento_{n}")).unwrap_or_else(|| n.to_string());
            (
                inputs(&format!("adjunto_{n}_fichero")),
                format!("Documento {shown}: tiene el mismo contenido que otro documento del caso."),
            )
        }
        CasiaError::InvalidQuery { field } => (
            inputs(field),
            match field.as_str() {
                "from" | "to" => "Las fechas deben tener el formato AAAA-MM-DD y estar dentro del mismo mes natural (desde no posterior a hasta).".to_owned(),
                "status" => "Elija un estado.".to_owned(),
                "substatus" => "El subestado no corresponde al estado elegido.".to_owned(),
                "cursor" => "La página pedida ya no existe; vuelva a buscar.".to_owned(),
                other => format!("{}: el valor no es válido.", field_name(other)),
            },
        ),
        CasiaError::DeadlineNotReached => (
            None,
            "El plazo de documentación aún no ha vencido.".to_owned(),
        ),
        CasiaError::SurveyNotAllowed => (
            None,
            "Solo se puede valorar un caso resuelto.".to_owned(),
        ),
        CasiaError::SurveyAlreadySubmitted => {
            (None, "Este caso ya se ha valorado.".to_owned())
        }
        CasiaError::SurveyWindowClosed => (
            None,
            "Ha pasado el plazo de 30 días para valorar la resolución.".to_owned(),
        ),
        CasiaError::VersionConflict => (
            None,
            "El caso ha cambiado mientras tanto; revise su estado y vuelva a intentarlo."
                .to_owned(),
        ),
    };
    FieldError { field, message }
}

/// An error a form shows: next to `field` (an input name), or at its top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form input it belongs to; `None` for the whole form.
    pub field: Option<String>,
    /// The message in Spanish.
    pub message: String,
}

/// The Spanish name of a field code of DOMAIN.md (command inputs, §4
/// fields, search parameters).
pub fn field_name(field: &str) -> String {
    if let Some(code) = FieldCode::parse(field) {
        return complementary_field(code).0.to_owned();
    }
    match field {
        "title" => "Título",
        "description" => "Descripción",
        "comment" => "Comentario",
        "reason" => "Motivo",
        "observation" => "Información solicitada",
        "note" => "Nota interna",
        "resolution" => "Resolución",
        "rating" => "Valoración",
        "processor" => "Tramitador",
        "office" => "Dirección provincial",
        "case_type" => "Tipo de caso",
        "materia" => "Materia",
        "category" => "Categoría",
        "subcategory" => "Subcategoría",
        "status" => "Estado",
        "substatus" => "Subestado",
        "from" => "Desde",
        "to" => "Hasta",
        "created_by" => "Creado por",
        "limit" => "Resultados por página",
        other => other,
    }
    .to_owned()
}

/// The rule of an `invalid_field` in Spanish: the core's words carry the
/// numbers (`1–150 characters after trimming, got 151`), kept as they are.
fn rule_es(field: &str, rule: &str) -> String {
    match field {
        "processor" => "1 a 64 letras, dígitos, puntos, guiones o guiones bajos".to_owned(),
        "office" => "elija una dirección provincial distinta de la actual".to_owned(),
        "rating" => "un número entero del 1 al 5".to_owned(),
        "comment" if rule.contains("at least one attachment") => {
            "escriba un comentario (1 a 4000 caracteres) o añada al menos un documento".to_owned()
        }
        _ => format!(
            "debe tener {}",
            rule.replace("characters after trimming", "caracteres")
                .replace("at most", "como máximo")
                .replace(", got", "; tiene")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_has_a_spanish_message() {
        let inputs = |f: &str| Some(format!("in_{f}"));
        let all = [
            CasiaError::NotFound,
            CasiaError::Forbidden,
            CasiaError::CaseClosed,
            CasiaError::TransitionNotAllowed,
            CasiaError::InvalidField {
                field: "title".into(),
                rule: "1–150 characters after trimming, got 151".into(),
            },
            CasiaError::InvalidClassification {
                field: "materia".into(),
            },
            CasiaError::NotHandledByCasia {
                message: "Use la sede electrónica.".into(),
            },
            CasiaError::InvalidComplementaryData {
                field: "nif".into(),
            },
            CasiaError::MissingComplementaryData {
                fields: vec!["ccc".into(), "naf".into()],
            },
            CasiaError::MissingRequiredDocuments {
                fields: vec!["ta1".into()],
            },
            CasiaError::AttachmentRejected {
                reason: RejectionReason::UnsupportedFormat,
                index: 1,
            },
            CasiaError::DuplicateAttachment { index: 0 },
            CasiaError::InvalidQuery {
                field: "from".into(),
            },
            CasiaError::DeadlineNotReached,
            CasiaError::SurveyNotAllowed,
            CasiaError::SurveyAlreadySubmitted,
            CasiaError::SurveyWindowClosed,
            CasiaError::VersionConflict,
        ];
        for e in &all {
            let m = error_message(e, &inputs);
            assert!(!m.message.is_empty(), "{e:?}");
            assert!(
                !m.message.contains("characters"),
                "English left in {:?}",
                m.message
            );
        }
        let title = error_message(&all[4], &inputs);
        assert_eq!(title.field.as_deref(), Some("in_title"));
        assert!(title.message.contains("1–150") && title.message.contains("151"));
        let file = error_message(&all[10], &inputs);
        assert_eq!(file.field.as_deref(), Some("in_adjunto_2_fichero"));
        assert!(
            file.message
                .starts_with("Documento in_documento_2: formato no admitido")
        );
        let unknown = CasiaError::AttachmentRejected {
            reason: RejectionReason::UnknownDocumentType,
            index: 0,
        };
        assert_eq!(
            error_message(&unknown, &inputs).field.as_deref(),
            Some("in_adjunto_1_tipo")
        );
        let nif = error_message(&all[7], &inputs);
        assert!(nif.message.contains("NIF") && nif.field.as_deref() == Some("in_nif"));
    }
}
