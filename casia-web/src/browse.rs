//! Reading cases: the home page (`/`), *Gestión de casos* (`/casos`,
//! options 1 and 2 of DOMAIN.md §7), a case (`/casos/{número}`) with its
//! data, documents, history, resolution, survey and the actions the
//! visitor may take, and a document's download.

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Utc};
use maud::{Markup, html};

use casia_core::calendar::madrid_date;
use casia_core::catalog::Catalog;
use casia_core::command::{Command, CommandKind, decide, transition};
use casia_core::search::SearchInput;
use casia_core::{Actor, Case, CaseNumber, CaseRules, CaseState, ServiceError, Status, Visibility};

use crate::actions::{self, Action};
use crate::labels;
use crate::layout::{
    FormState, InputKind, Section, date, error_summary, madrid_time, notice, select, text_input,
};
use crate::{Ctx, redirect};

/// The labels of a case's materia, category and subcategory in the
/// catalog (the codes when the catalog no longer has them).
pub fn classification(catalog: &Catalog, case: &Case) -> [String; 3] {
    let t = catalog.case_type(case.case_type);
    let m = t.and_then(|t| t.materias.iter().find(|m| m.code == case.materia));
    let c = m.and_then(|m| m.categories.iter().find(|c| c.code == case.category));
    let s = c.and_then(|c| c.subcategories.iter().find(|s| s.code == case.subcategory));
    [
        m.map_or_else(|| case.materia.clone(), |m| m.label.clone()),
        c.map_or_else(|| case.category.clone(), |c| c.label.clone()),
        s.map_or_else(|| case.subcategory.clone(), |s| s.label.clone()),
    ]
}

fn status_label(state: CaseState) -> &'static str {
    state.status().label_es()
}

/// A table of cases: number (linked), title, type, materia, substatus,
/// submission (Madrid), deadline. The list pages and the queue use it.
pub fn case_table(cases: &[Case], catalog: &Catalog, caption: &str) -> Markup {
    html! {
        table.cases {
            caption { (caption) }
            thead {
                tr {
                    th scope="col" { "Número" }
                    th scope="col" { "Título" }
                    th scope="col" { "Tipo" }
                    th scope="col" { "Materia" }
                    th scope="col" { "Estado" }
                    th scope="col" { "Presentado" }
                    th scope="col" { "Plazo" }
                }
            }
            tbody {
                @for c in cases {
                    @let [materia, _, _] = classification(catalog, c);
                    tr {
                        th scope="row" { a href={ "/casos/" (c.number) } { (c.number) } }
                        td { (c.title.as_str()) @if c.affects_current_period { " " span.tag { "Periodo en curso" } } }
                        td { (c.case_type.label_es()) }
                        td { (materia) }
                        td { (status_label(c.state)) " · " (c.state.label_es()) }
                        td { (madrid_time(c.submitted_at)) }
                        td { @if let Some(d) = c.deadline { (date(d)) } @else { "—" } }
                    }
                }
            }
        }
    }
}

/// `GET /`: a user's cases of the current month, or a processor's queue;
/// signed out, the sign-in page.
pub async fn home(ctx: Ctx) -> Response {
    let actor = match ctx.person() {
        Ok(a) => a,
        Err(r) => return r,
    };
    if matches!(actor, Actor::Processor { .. }) {
        return crate::queue::queue(ctx).await;
    }
    let today = madrid_date(Utc::now());
    let first = today.with_day(1).unwrap_or(today);
    let input = SearchInput {
        status: Some("all".into()),
        from: Some(first.to_string()),
        to: Some(today.to_string()),
        limit: Some(50),
        ..SearchInput::default()
    };
    let page = match ctx.state.service().search(&actor, &input).await {
        Ok(p) => p,
        Err(e) => return ctx.error_page(e),
    };
    let catalog = &ctx.state.service().rules().catalog;
    let main = html! {
        ul.actions {
            li { a.button href="/casos/nuevo" { "Nuevo caso" } }
            li { a href="/casos" { "Buscar casos de otros meses" } }
        }
        @if page.items.is_empty() {
            p { "Su autorización no tiene casos presentados este mes." }
        } @else {
            (case_table(&page.items, catalog, "Casos de su autorización presentados este mes, los más recientes primero"))
            @if let Some(cursor) = &page.next_cursor {
                p { a href={ "/casos?estado=all&desde=" (first) "&hasta=" (today) "&cursor=" (cursor) } { "Más casos de este mes" } }
            }
        }
    };
    ctx.page_response(StatusCode::OK, "Mis casos del mes", Section::Home, main)
}

/// The query names of option 2 and the search parameters they carry.
const SEARCH_FIELDS: [(&str, &str); 7] = [
    ("estado", "status"),
    ("desde", "from"),
    ("hasta", "to"),
    ("subestado", "substatus"),
    ("tipo", "case_type"),
    ("materia", "materia"),
    ("creado_por", "created_by"),
];

fn search_input_for(field: &str) -> Option<String> {
    SEARCH_FIELDS
        .iter()
        .find(|(_, f)| *f == field)
        .map(|(name, _)| (*name).to_owned())
}

/// `GET /casos`: option 1 (`numero`: straight to the case) and option 2
/// (`estado` with `desde`/`hasta` in one month, `subestado`, `tipo`,
/// `materia`, `creado_por`; `cursor` for the next page). Without a query:
/// every case of the current month.
pub async fn list(ctx: Ctx, Query(query): Query<BTreeMap<String, String>>) -> Response {
    let actor = match ctx.person() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut form = FormState::with_values(query);
    form.values.retain(|_, v| !v.trim().is_empty());
    // Option 1.
    if let Some(raw) = form.values.get("numero").cloned() {
        match CaseNumber::parse(raw.trim()) {
            Ok(n) => match ctx.state.service().get(&actor, n).await {
                Ok(_) => return redirect(&format!("/casos/{n}")),
                Err(ServiceError::Rule(_)) => form.errors.push(labels::FieldError {
                    field: Some("numero".into()),
                    message: "No hay ningún caso con ese número que pueda ver.".into(),
                }),
                Err(e) => return ctx.error_page(e),
            },
            Err(_) => form.errors.push(labels::FieldError {
                field: Some("numero".into()),
                message:
                    "El número de caso tiene la forma AAAA-NNNNNNNN, por ejemplo 2026-00000042."
                        .into(),
            }),
        }
        return render_list(&ctx, &form, None, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Option 2; with none of its fields, the current month.
    if !SEARCH_FIELDS
        .iter()
        .any(|(name, _)| form.values.contains_key(*name))
    {
        let today = madrid_date(Utc::now());
        form.values.insert("estado".into(), "all".into());
        form.values.insert(
            "desde".into(),
            today.with_day(1).unwrap_or(today).to_string(),
        );
        form.values.insert("hasta".into(), today.to_string());
    }
    let get = |k: &str| form.values.get(k).cloned();
    let input = SearchInput {
        status: get("estado"),
        from: get("desde"),
        to: get("hasta"),
        substatus: get("subestado"),
        case_type: get("tipo"),
        materia: get("materia"),
        created_by: get("creado_por"),
        limit: Some(50),
        cursor: get("cursor"),
    };
    match ctx.state.service().search(&actor, &input).await {
        Ok(page) => render_list(&ctx, &form, Some(page), StatusCode::OK),
        Err(ServiceError::Rule(rule)) => {
            form.errors
                .push(labels::error_message(&rule, &|f| search_input_for(f)));
            render_list(&ctx, &form, None, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => ctx.error_page(e),
    }
}

fn render_list(
    ctx: &Ctx,
    form: &FormState,
    page: Option<casia_core::search::Page>,
    status: StatusCode,
) -> Response {
    let catalog = &ctx.state.service().rules().catalog;
    let statuses = vec![
        ("all".to_owned(), "Todos".to_owned()),
        ("open".to_owned(), Status::Open.label_es().to_owned()),
        ("closed".to_owned(), Status::Closed.label_es().to_owned()),
    ];
    let substates: Vec<(String, String)> = CaseState::ALL
        .iter()
        .map(|s| {
            (
                s.substatus_code().to_owned(),
                format!("{} · {}", s.status().label_es(), s.label_es()),
            )
        })
        .collect();
    let types: Vec<(String, String)> = catalog
        .case_types
        .iter()
        .map(|t| (t.code.as_str().to_owned(), t.code.label_es().to_owned()))
        .collect();
    let mut materias: Vec<(String, String)> = Vec::new();
    for t in &catalog.case_types {
        for m in &t.materias {
            if !materias.iter().any(|(c, _)| *c == m.code) {
                materias.push((m.code.clone(), m.label.clone()));
            }
        }
    }
    let next_link = page
        .as_ref()
        .and_then(|p| p.next_cursor.as_ref())
        .map(|cursor| {
            let mut q: Vec<(&str, &str)> = SEARCH_FIELDS
                .iter()
                .filter_map(|(name, _)| form.values.get(*name).map(|v| (*name, v.as_str())))
                .collect();
            q.push(("cursor", cursor));
            format!(
                "/casos?{}",
                serde_urlencoded::to_string(&q).unwrap_or_default()
            )
        });
    let main = html! {
        (error_summary(form))
        div.columns {
            form method="get" action="/casos" {
                fieldset {
                    legend { "Opción 1: por número de caso" }
                    (text_input(form, "numero", "Número de caso", Some("AAAA-NNNNNNNN, por ejemplo 2026-00000042."), false, InputKind::Text))
                    button type="submit" { "Ver el caso" }
                }
            }
            form method="get" action="/casos" {
                fieldset {
                    legend { "Opción 2: por filtros" }
                    (select(form, "estado", "Estado", None, "Elija un estado", &statuses))
                    (text_input(form, "desde", "Desde (fecha de presentación)", Some("Las dos fechas dentro del mismo mes."), false, InputKind::Date))
                    (text_input(form, "hasta", "Hasta", None, false, InputKind::Date))
                    (select(form, "subestado", "Subestado", None, "Cualquiera", &substates))
                    (select(form, "tipo", "Tipo de caso", None, "Cualquiera", &types))
                    (select(form, "materia", "Materia", None, "Cualquiera", &materias))
                    (text_input(form, "creado_por", "Creado por (usuario)", None, false, InputKind::Text))
                    button type="submit" { "Buscar" }
                }
            }
        }
        @if let Some(page) = &page {
            @if page.items.is_empty() {
                p role="status" { "Ningún caso cumple estos filtros." }
            } @else {
                (case_table(&page.items, catalog, "Resultados, los más recientes primero"))
            }
            @if let Some(href) = &next_link {
                p { a href=(href) rel="next" { "Página siguiente" } }
            }
        }
    };
    ctx.page_response(status, "Gestión de casos", Section::Cases, main)
}

/// What a case's page shows besides the case: a notice after an action,
/// or a refused action's form with its errors.
#[derive(Debug, Default)]
pub struct DetailExtras<'a> {
    /// A line saying what was just done.
    pub notice: Option<&'a str>,
    /// Why the last action was refused, when its form is no longer shown.
    pub alert: Option<&'a str>,
    /// The refused action and its form.
    pub refused: Option<(Action, &'a FormState)>,
}

/// Whether `actor` may run `kind` on `case` now (§5 who and from).
pub fn may(actor: &Actor, case: &Case, kind: CommandKind) -> bool {
    let t = transition(kind);
    t.who.admits(actor, case)
        && t.from.admits(case.state)
        && (kind != CommandKind::Survey || case.survey.is_none())
}

/// The deadline an information request made now would set (running the
/// core's decision on a copy; nothing is written).
pub fn deadline_preview(
    case: &Case,
    actor: &Actor,
    rules: &CaseRules,
) -> Option<chrono::NaiveDate> {
    let probe = Command::RequestInformation {
        observation: "-".into(),
    };
    decide(case, actor, &probe, rules, Utc::now())
        .ok()
        .and_then(|change| change.case.deadline)
}

/// The body of a case's page (the case already redacted for `actor`).
pub fn case_detail(
    case: &Case,
    actor: &Actor,
    rules: &CaseRules,
    csrf: &str,
    extras: &DetailExtras<'_>,
) -> Markup {
    let [materia, category, subcategory] = classification(&rules.catalog, case);
    let doc_label = |code: &str| {
        rules
            .catalog
            .document_type(code)
            .map_or_else(|| code.to_owned(), |d| d.label.clone())
    };
    let is_processor = matches!(actor, Actor::Processor { .. });
    html! {
        @if let Some(text) = extras.notice { (notice(text)) }
        @if let Some(text) = extras.alert {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "No se ha podido completar" }
                p { (text) }
            }
        }
        p.status-line {
            span.badge.closed[case.state.is_closed()] { (status_label(case.state)) " · " (case.state.label_es()) }
            @if let Some(d) = case.deadline {
                @if case.state == CaseState::Open(casia_core::OpenSubstatus::InformationRequested) {
                    " " strong { "Plazo para aportar la información: hasta el " (date(d)) " incluido." }
                } @else {
                    " Plazo vencido el " (date(d)) "."
                }
            }
        }
        h2 { (case.title.as_str()) }
        p.pre { (case.description.as_str()) }
        dl.summary {
            dt { "Tipo de caso" } dd { (case.case_type.label_es()) }
            dt { "Materia" } dd { (materia) }
            dt { "Categoría" } dd { (category) }
            dt { "Subcategoría" } dd { (subcategory) }
            dt { "Presentado" } dd { (madrid_time(case.submitted_at)) " por " (case.submitted_by) }
            dt { "Autorización RED" } dd { (case.authorization) }
            dt { "Dirección provincial" } dd { (labels::province(case.office)) }
            dt { "Tramitador asignado" } dd { @match &case.assignee { Some(p) => (p), None => "Sin asignar" } }
            dt { "Afecta al periodo en curso" } dd { @if case.affects_current_period { "Sí" } @else { "No" } }
            @if let Some(at) = case.closed_at { dt { "Cerrado" } dd { (madrid_time(at)) } }
            @for (code, value) in case.complementary_data.iter() {
                dt { (labels::complementary_field(code).0) } dd { (value) }
            }
        }
        p { a href={ "/casos/" (case.number) "/justificante" } { "Justificante de apertura" } }
        @if let Some(r) = &case.resolution {
            section aria-labelledby="resolucion" {
                h2 #resolucion { "Resolución" }
                p.pre { (r.as_str()) }
            }
        }
        section aria-labelledby="documentos" {
            h2 #documentos { "Documentos" }
            @if case.attachments.is_empty() {
                p { "El caso no tiene documentos." }
            } @else {
                table {
                    caption.visually-hidden { "Documentos del caso" }
                    thead { tr { th scope="col" { "Título" } th scope="col" { "Tipo" } th scope="col" { "Fichero" } th scope="col" { "Tamaño" } th scope="col" { "Añadido" } } }
                    tbody {
                        @for a in &case.attachments {
                            tr {
                                td { a href={ "/casos/" (case.number) "/documentos/" (a.id) } { (a.title.as_str()) } }
                                td { (doc_label(&a.document_type)) }
                                td { (a.file_name) }
                                td { (casia_receipt_pdf::human_size(a.size)) }
                                td { (madrid_time(a.added_at)) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="historico" {
            h2 #historico { "Histórico" }
            table.history {
                caption.visually-hidden { "Histórico del caso, el más antiguo primero" }
                thead { tr { th scope="col" { "Fecha y hora" } th scope="col" { "Evento" } th scope="col" { "Estado" } th scope="col" { "Subestado" } th scope="col" { "Por" } th scope="col" { "Observaciones" } } }
                tbody {
                    @for e in &case.history {
                        tr {
                            td { (madrid_time(e.at)) }
                            td { (labels::event(e.event)) }
                            td { (status_label(e.state)) }
                            td { (e.state.label_es()) }
                            td { (actor_label(&e.actor)) }
                            td.pre {
                                @if let Some(o) = &e.observation {
                                    @if e.visibility == Visibility::Internal && is_processor { span.tag { "Nota interna" } " " }
                                    (o)
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(s) = &case.survey {
            section aria-labelledby="valoracion" {
                h2 #valoracion { "Valoración" }
                p { (s.rating) " de 5" @if let Some(c) = &s.comment { ": " (c.as_str()) } }
            }
        }
        (actions::forms(case, actor, rules, csrf, extras.refused))
    }
}

fn actor_label(a: &casia_core::ActorRef) -> String {
    match (a.role, &a.id) {
        (casia_core::Role::User, Some(id)) => format!("Usuario {id}"),
        (casia_core::Role::Processor, Some(id)) => format!("Tramitador {id}"),
        _ => "Sistema".to_owned(),
    }
}

/// Notices after a successful action (`?hecho=` of the redirect).
fn done_notice(code: &str) -> Option<&'static str> {
    Action::ALL
        .into_iter()
        .find(|a| a.slug() == code)
        .map(Action::done)
}

/// `GET /casos/{número}`: the case as the visitor may see it.
pub async fn detail(
    ctx: Ctx,
    Path(number): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let actor = match ctx.person() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Ok(number) = CaseNumber::parse(&number) else {
        return ctx.error_page(casia_core::CasiaError::NotFound.into());
    };
    let case = match ctx.state.service().get(&actor, number).await {
        Ok(c) => c,
        Err(e) => return ctx.error_page(e),
    };
    let extras = DetailExtras {
        notice: query.get("hecho").and_then(|c| done_notice(c)),
        ..DetailExtras::default()
    };
    detail_page(&ctx, &actor, &case, &extras, StatusCode::OK)
}

/// A case's page with `extras`.
pub fn detail_page(
    ctx: &Ctx,
    actor: &Actor,
    case: &Case,
    extras: &DetailExtras<'_>,
    status: StatusCode,
) -> Response {
    let rules = ctx.state.service().rules();
    let body = case_detail(case, actor, &rules, &ctx.csrf, extras);
    ctx.page_response(
        status,
        &format!("Caso {}", case.number),
        Section::Cases,
        body,
    )
}

/// `GET /casos/{número}/documentos/{id}`: the document's bytes, as the
/// detected media type, to save (never rendered inline: an attachment is
/// not a page of this origin).
pub async fn document(
    ctx: Ctx,
    Path((number, id)): Path<(String, String)>,
    request: axum::http::HeaderMap,
) -> Response {
    let actor = match ctx.person() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (Ok(number), Ok(id)) = (CaseNumber::parse(&number), id.parse::<u32>()) else {
        return ctx.error_page(casia_core::CasiaError::NotFound.into());
    };
    match ctx
        .state
        .service()
        .attachment_part(&actor, number, id, |meta| {
            casia_http::download::wanted(meta, &request)
        })
        .await
    {
        Ok((meta, stream)) => casia_http::download::download(&meta, stream, &request),
        Err(e) => ctx.error_page(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_errors_name_the_form_inputs() {
        assert_eq!(search_input_for("from").as_deref(), Some("desde"));
        assert_eq!(search_input_for("status").as_deref(), Some("estado"));
        assert_eq!(search_input_for("limit"), None);
    }
}
