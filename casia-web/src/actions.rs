//! The commands of DOMAIN.md §5 as forms on a case's page, posted to
//! `/casos/{número}/{acción}`: the user's *añadir documentación*,
//! *anular* and *encuesta*; the processor's *asignar*, *solicitar
//! información* (with the deadline it would set), *escalar*, *transferir*,
//! *reclasificar* and *resolver*. A form is shown only when the visitor may
//! run it now (§5 who and from); the core decides again on the post, and a
//! refusal comes back on the same page with the input kept.

use axum::body::Bytes as BodyBytes;
use axum::extract::{FromRequest, Multipart, Path, Request};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use casia_core::command::{Command, CommandKind};
use casia_core::{Actor, Case, CaseNumber, CaseRules, ServiceError};

use crate::browse::{DetailExtras, deadline_preview, detail_page, may};
use crate::filing::{ATTACHMENT_SLOTS, attachment_slots, attachments, read_form};
use crate::labels::{self, FieldError};
use crate::layout::{
    FormState, InputKind, csrf_input, date, error_summary, select, text_area, text_input,
};
use crate::{Ctx, form_fields, redirect};

/// A form on a case's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `add_documentation`: *Añadir documentación*.
    AddDocumentation,
    /// `cancel`: *Anular el caso*.
    Cancel,
    /// `survey`: *Valorar la atención*.
    Survey,
    /// `assign`.
    Assign,
    /// `request_information`.
    RequestInformation,
    /// `escalate`.
    Escalate,
    /// `transfer`.
    Transfer,
    /// `reclassify`.
    Reclassify,
    /// `resolve`.
    Resolve,
}

impl Action {
    /// Every action, in the order the page shows them.
    pub const ALL: [Action; 9] = [
        Action::AddDocumentation,
        Action::Cancel,
        Action::Survey,
        Action::Assign,
        Action::RequestInformation,
        Action::Escalate,
        Action::Transfer,
        Action::Reclassify,
        Action::Resolve,
    ];

    /// The path segment: `documentacion`, `anular`, `encuesta`, `asignar`,
    /// `solicitar`, `escalar`, `transferir`, `reclasificar`, `resolver`.
    pub fn slug(self) -> &'static str {
        match self {
            Action::AddDocumentation => "documentacion",
            Action::Cancel => "anular",
            Action::Survey => "encuesta",
            Action::Assign => "asignar",
            Action::RequestInformation => "solicitar",
            Action::Escalate => "escalar",
            Action::Transfer => "transferir",
            Action::Reclassify => "reclasificar",
            Action::Resolve => "resolver",
        }
    }

    /// The command of §5 it runs.
    pub fn kind(self) -> CommandKind {
        match self {
            Action::AddDocumentation => CommandKind::AddDocumentation,
            Action::Cancel => CommandKind::Cancel,
            Action::Survey => CommandKind::Survey,
            Action::Assign => CommandKind::Assign,
            Action::RequestInformation => CommandKind::RequestInformation,
            Action::Escalate => CommandKind::Escalate,
            Action::Transfer => CommandKind::Transfer,
            Action::Reclassify => CommandKind::Reclassify,
            Action::Resolve => CommandKind::Resolve,
        }
    }

    /// What the page says once it is done.
    pub fn done(self) -> &'static str {
        match self {
            Action::AddDocumentation => "Documentación añadida al caso.",
            Action::Cancel => "Caso anulado.",
            Action::Survey => "Gracias: su valoración ha quedado registrada.",
            Action::Assign => "Caso asignado.",
            Action::RequestInformation => {
                "Información solicitada: el autorizado ha sido avisado y el plazo corre."
            }
            Action::Escalate => "Caso escalado.",
            Action::Transfer => "Caso transferido a la otra dirección provincial.",
            Action::Reclassify => "Caso reclasificado.",
            Action::Resolve => "Caso resuelto.",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Action::AddDocumentation => "Añadir documentación",
            Action::Cancel => "Anular el caso",
            Action::Survey => "Valorar la atención recibida",
            Action::Assign => "Asignar",
            Action::RequestInformation => "Solicitar información",
            Action::Escalate => "Escalar",
            Action::Transfer => "Transferir a otra dirección provincial",
            Action::Reclassify => "Reclasificar",
            Action::Resolve => "Resolver",
        }
    }

    /// The form input a core field code is shown next to.
    fn input(self, field: &str, slots: &[usize]) -> Option<String> {
        if let Some(input) = crate::filing::attachment_input(field, slots) {
            return Some(input);
        }
        let name = match (self, field) {
            (Action::AddDocumentation, "comment") => "comentario",
            (Action::Cancel, "reason") => "motivo",
            (Action::Survey, "rating") => "valoracion-1",
            (Action::Survey, "comment") => "comentario_encuesta",
            (Action::Assign, "processor") => "tramitador",
            (Action::RequestInformation, "observation") => "observacion",
            (Action::Escalate, "note") => "nota_escalado",
            (Action::Transfer, "office") => "oficina",
            (Action::Transfer, "note") => "nota_transferencia",
            (Action::Reclassify, "materia" | "category" | "subcategory") => "clasificacion",
            (Action::Resolve, "resolution") => "resolucion",
            _ => return None,
        };
        Some(name.to_owned())
    }
}

fn optional(form: &FormState, name: &str) -> Option<String> {
    let v = form.value(name);
    (!v.trim().is_empty()).then(|| v.to_owned())
}

/// The command a posted form asks for (the core validates its texts).
fn command(
    action: Action,
    form: &FormState,
    attachments: Vec<casia_core::attachment::NewAttachment>,
) -> Command {
    match action {
        Action::AddDocumentation => Command::AddDocumentation {
            comment: optional(form, "comentario"),
            attachments,
        },
        Action::Cancel => Command::Cancel {
            reason: optional(form, "motivo"),
        },
        Action::Survey => Command::Survey {
            // No choice is not a rating: 0 is refused as `rating`.
            rating: form.value("valoracion").trim().parse().unwrap_or(0),
            comment: optional(form, "comentario_encuesta"),
        },
        Action::Assign => Command::Assign {
            processor: optional(form, "tramitador"),
        },
        Action::RequestInformation => Command::RequestInformation {
            observation: form.value("observacion").to_owned(),
        },
        Action::Escalate => Command::Escalate {
            note: form.value("nota_escalado").to_owned(),
        },
        Action::Transfer => Command::Transfer {
            office: form.value("oficina").trim().to_owned(),
            note: optional(form, "nota_transferencia"),
        },
        Action::Reclassify => {
            let mut parts = form.value("clasificacion").splitn(3, '/');
            Command::Reclassify {
                materia: parts.next().unwrap_or_default().to_owned(),
                category: parts.next().unwrap_or_default().to_owned(),
                subcategory: parts.next().unwrap_or_default().to_owned(),
            }
        }
        Action::Resolve => Command::Resolve {
            resolution: form.value("resolucion").to_owned(),
        },
    }
}

/// The forms of every action `actor` may take on `case` now; `refused`
/// is the one that just failed, shown with its input and errors.
pub fn forms(
    case: &Case,
    actor: &Actor,
    rules: &CaseRules,
    csrf: &str,
    refused: Option<(Action, &FormState)>,
) -> Markup {
    let empty = FormState::default();
    let available: Vec<Action> = Action::ALL
        .into_iter()
        .filter(|a| may(actor, case, a.kind()))
        .collect();
    html! {
        @if !available.is_empty() {
            section aria-labelledby="acciones" {
                h2 #acciones { "Acciones" }
                @for action in available {
                    @let form = match refused { Some((a, f)) if a == action => f, _ => &empty };
                    (action_form(action, case, actor, rules, csrf, form))
                }
            }
        }
    }
}

fn action_form(
    action: Action,
    case: &Case,
    actor: &Actor,
    rules: &CaseRules,
    csrf: &str,
    form: &FormState,
) -> Markup {
    let heading = format!("accion-{}", action.slug());
    let multipart = action == Action::AddDocumentation;
    html! {
        section.action aria-labelledby=(heading) {
            h3 id=(heading) { (action.title()) }
            (error_summary(form))
            form method="post" action={ "/casos/" (case.number) "/" (action.slug()) }
                enctype=[multipart.then_some("multipart/form-data")] novalidate {
                (csrf_input(csrf))
                (fields(action, case, actor, rules, form))
                button type="submit" { (action.title()) }
            }
        }
    }
}

fn fields(
    action: Action,
    case: &Case,
    actor: &Actor,
    rules: &CaseRules,
    form: &FormState,
) -> Markup {
    match action {
        Action::AddDocumentation => {
            let types: Vec<(String, String)> = rules
                .catalog
                .document_types
                .iter()
                .map(|d| (d.code.clone(), d.label.clone()))
                .collect();
            html! {
                @if let Some(d) = case.deadline {
                    p.hint { "Si responde a una solicitud de información, hágalo hasta el " (date(d)) " incluido." }
                }
                (text_area(form, "comentario", "Comentario", Some("De 1 a 4000 caracteres; puede dejarlo vacío si añade documentos."), false))
                (attachment_slots(form, &types, "Si lo deja vacío se usa el nombre del fichero."))
            }
        }
        Action::Cancel => {
            let error = form.error("confirmo");
            html! {
                (text_area(form, "motivo", "Motivo de la anulación", Some("Opcional, hasta 1000 caracteres."), false))
                div.checkbox.field.invalid[error.is_some()] {
                    @if let Some(e) = error { p.error id="confirmo-error" { span.visually-hidden { "Error: " } (e) } }
                    input type="checkbox" id="confirmo" name="confirmo" value="si"
                        aria-describedby=[error.map(|_| "confirmo-error")]
                        aria-invalid=[error.map(|_| "true")];
                    label for="confirmo" { "Confirmo que deseo anular el caso: la anulación no se puede deshacer." }
                }
            }
        }
        Action::Survey => {
            let chosen = form.value("valoracion");
            let error = form.error("valoracion-1");
            html! {
                fieldset.invalid[error.is_some()] aria-describedby=[error.map(|_| "valoracion-error")] {
                    legend { "Valoración de 1 (muy mala) a 5 (muy buena)" }
                    @if let Some(e) = error { p.error id="valoracion-error" { span.visually-hidden { "Error: " } (e) } }
                    div.rating {
                        @for n in 1..=5 {
                            @let id = format!("valoracion-{n}");
                            span.radio {
                                input type="radio" id=(id) name="valoracion" value=(n) checked[chosen == n.to_string()]
                                    aria-invalid=[error.map(|_| "true")];
                                label for=(id) { (n) }
                            }
                        }
                    }
                }
                (text_area(form, "comentario_encuesta", "Comentario", Some("Opcional, hasta 1000 caracteres."), false))
            }
        }
        Action::Assign => html! {
            (text_input(form, "tramitador", "Tramitador", Some("Déjelo vacío para asignárselo a usted."), false, InputKind::Text))
        },
        Action::RequestInformation => {
            let preview = deadline_preview(case, actor, rules);
            let policy = rules.catalog.deadline_policy(case.case_type);
            let unit = match policy.unit {
                casia_core::catalog::DeadlineUnit::Business => "días hábiles",
                casia_core::catalog::DeadlineUnit::Calendar => "días naturales",
            };
            html! {
                @if let Some(d) = preview {
                    p.hint #plazo {
                        "Si la solicita hoy, el autorizado tendrá hasta el " strong { (date(d)) } " incluido ("
                        (policy.days) " " (unit) ", festivos de " (case.province.community().name()) "); después el caso se cierra de oficio."
                    }
                }
                (text_area(form, "observacion", "Información que se solicita", Some("De 1 a 4000 caracteres; la recibe el autorizado."), true))
            }
        }
        Action::Escalate => html! {
            (text_area(form, "nota_escalado", "Nota interna", Some("De 1 a 4000 caracteres; el autorizado no la ve."), true))
        },
        Action::Transfer => {
            let offices: Vec<(String, String)> = (1..=52u8)
                .filter_map(|n| casia_core::ProvinceCode::parse(&format!("{n:02}")).ok())
                .filter(|p| *p != case.office)
                .map(|p| (p.code(), labels::province(p)))
                .collect();
            html! {
                (select(form, "oficina", "Dirección provincial de destino", None, "Elija una dirección", &offices))
                (text_area(form, "nota_transferencia", "Nota interna", Some("Opcional, hasta 4000 caracteres; el autorizado no la ve."), false))
            }
        }
        Action::Reclassify => {
            let mut paths = Vec::new();
            if let Some(t) = rules.catalog.case_type(case.case_type) {
                for m in &t.materias {
                    for c in &m.categories {
                        for s in &c.subcategories {
                            if s.not_handled.is_none() {
                                paths.push((
                                    format!("{}/{}/{}", m.code, c.code, s.code),
                                    format!("{} › {} › {}", m.label, c.label, s.label),
                                ));
                            }
                        }
                    }
                }
            }
            html! {
                (select(form, "clasificacion", "Nueva clasificación", Some("Materia › categoría › subcategoría del mismo tipo de caso."), "Elija una clasificación", &paths))
            }
        }
        Action::Resolve => html! {
            (text_area(form, "resolucion", "Resolución", Some("De 1 a 8000 caracteres; la recibe el autorizado."), true))
        },
    }
}

/// `POST /casos/{número}/{acción}`: runs the action's command; on success
/// back to the case with a notice, on a refusal the case again with the
/// form, its input and the error.
pub async fn run(ctx: Ctx, Path((number, slug)): Path<(String, String)>, req: Request) -> Response {
    let actor = match ctx.person() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (Ok(number), Some(action)) = (
        CaseNumber::parse(&number),
        Action::ALL.into_iter().find(|a| a.slug() == slug),
    ) else {
        return ctx.error_page(casia_core::CasiaError::NotFound.into());
    };
    let is_multipart = matches!(
        casia_http::extract::body_kind(req.headers()),
        Ok(casia_http::extract::BodyKind::Multipart)
    );
    let mut staging = casia_http::staging::Staging::for_state(&ctx.state);
    let (mut form, new_attachments, slots) = if is_multipart {
        let posted = match Multipart::from_request(req, &ctx.state).await {
            Ok(m) => read_form(m, staging.as_mut(), ctx.streamed.as_ref()).await,
            Err(_) => Err(crate::filing::FormError::Malformed),
        };
        let posted = match posted {
            Ok(p) => p,
            Err(e) => return e.page(&ctx, crate::layout::Section::Cases),
        };
        let form = FormState::with_values(posted.values.clone());
        match attachments(&posted, ATTACHMENT_SLOTS) {
            Ok((a, slots)) => (form, a, slots),
            Err(e) => {
                if !ctx.csrf_ok(form.value("csrf")) {
                    return ctx.csrf_refused();
                }
                return refused(&ctx, &actor, number, action, form, e).await;
            }
        }
    } else {
        match BodyBytes::from_request(req, &ctx.state).await {
            Ok(body) => (
                FormState::with_values(form_fields(&body)),
                Vec::new(),
                Vec::new(),
            ),
            Err(_) => return bad_form(&ctx),
        }
    };
    if !ctx.csrf_ok(form.value("csrf")) {
        return ctx.csrf_refused();
    }
    form.values.remove("csrf");
    // Cancelling cannot be undone: it is confirmed first (WCAG 3.3.4).
    if action == Action::Cancel && form.value("confirmo") != "si" {
        let e = FieldError {
            field: Some("confirmo".into()),
            message: "Marque la casilla para confirmar la anulación.".into(),
        };
        return refused(&ctx, &actor, number, action, form, e).await;
    }
    let cmd = command(action, &form, new_attachments);
    match ctx.state.service().execute(&actor, number, &cmd).await {
        Ok(_) => redirect(&format!("/casos/{number}?hecho={}", action.slug())),
        Err(ServiceError::Rule(rule)) => {
            let e = labels::error_message(&rule, &|f| action.input(f, &slots));
            refused(&ctx, &actor, number, action, form, e).await
        }
        Err(other) => ctx.error_page(other),
    }
}

async fn refused(
    ctx: &Ctx,
    actor: &Actor,
    number: CaseNumber,
    action: Action,
    mut form: FormState,
    error: FieldError,
) -> Response {
    form.values.remove("csrf");
    form.errors.push(error);
    match ctx.state.service().get(actor, number).await {
        Ok(case) => {
            // The form comes back with the error where it was made; when
            // the action no longer applies, the error goes on top.
            let extras = DetailExtras {
                refused: Some((action, &form)),
                ..DetailExtras::default()
            };
            if may(actor, &case, action.kind()) {
                detail_page(ctx, actor, &case, &extras, StatusCode::UNPROCESSABLE_ENTITY)
            } else {
                let message = form
                    .errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default();
                let extras = DetailExtras {
                    alert: Some(&message),
                    ..DetailExtras::default()
                };
                detail_page(ctx, actor, &case, &extras, StatusCode::UNPROCESSABLE_ENTITY)
            }
        }
        Err(e) => ctx.error_page(e),
    }
}

fn bad_form(ctx: &Ctx) -> Response {
    ctx.page_response(
        StatusCode::BAD_REQUEST,
        "Formulario no válido",
        crate::layout::Section::Cases,
        html! { p { "El formulario no ha llegado completo; vuelva atrás y envíelo de nuevo." } },
    )
}
