//! *Nuevo caso* (`/casos/nuevo`) and the *Justificante*
//! (`/casos/{número}/justificante`, `.pdf`).
//!
//! The classification is chosen level by level (case type → materia →
//! category → subcategory, DOMAIN.md §2) with a GET form, so each choice
//! narrows the next without JavaScript; a subcategory CASIA does not
//! handle shows its message as soon as it is picked. The chosen
//! subcategory's required data and documents are shown with their formats
//! (§4, §6) before anything is sent. The case is then posted as
//! `multipart/form-data` with its files and submitted through the core.

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use casia_core::attachment::{AttachmentContent, NewAttachment};
use casia_core::catalog::{Catalog, Subcategory};
use casia_core::complementary::FieldCode;
use casia_core::{Actor, CaseNumber, CaseType, ServiceError, SubmitInput};
use casia_http::limits::StreamedBody;
use casia_http::staging::Staging;

use crate::labels::{self, FieldError};
use crate::layout::{
    FormState, InputKind, Section, csrf_input, error_summary, file_input, select, select_with,
    text_area, text_input,
};
use crate::{Ctx, redirect};

/// How many attachment slots the form offers (DOMAIN.md §6 allows more:
/// further documents go in with *añadir documentación*).
pub const ATTACHMENT_SLOTS: usize = 3;

/// The classification levels' input names, in order.
const LEVELS: [&str; 4] = ["tipo", "materia", "categoria", "subcategoria"];

/// The form input a core field code is shown next to.
fn input_for(catalog: &Catalog, field: &str, slots: &[usize]) -> Option<String> {
    if let Some(code) = field.strip_prefix("document_type:") {
        return Some(
            catalog
                .document_type(code)
                .map_or_else(|| code.to_owned(), |d| d.label.clone()),
        );
    }
    if let Some(input) = attachment_input(field, slots) {
        return Some(input);
    }
    if let Some(code) = FieldCode::parse(field) {
        return Some(labels::complementary_input(code));
    }
    Some(
        match field {
            "title" => "titulo",
            "description" => "descripcion",
            "case_type" => "tipo",
            "materia" => "materia",
            "category" => "categoria",
            "subcategory" => "subcategoria",
            _ => return None,
        }
        .to_owned(),
    )
}

/// The input an attachment error names, in form slots: `documento_<n>` →
/// the slot number the `n`-th sent attachment came from, and
/// `adjunto_<n>_<part>` → that slot's input (`slots[n - 1]` is the slot
/// of the `n`-th attachment sent).
pub fn attachment_input(field: &str, slots: &[usize]) -> Option<String> {
    let slot_of = |n: &str| -> Option<usize> {
        let index = n.parse::<usize>().ok()?.checked_sub(1)?;
        Some(slots.get(index).copied().unwrap_or(index + 1))
    };
    if let Some(n) = field.strip_prefix("documento_") {
        return slot_of(n).map(|s| s.to_string());
    }
    let rest = field.strip_prefix("adjunto_")?;
    let (n, part) = rest.split_once('_')?;
    Some(format!("adjunto_{}_{part}", slot_of(n)?))
}

/// The levels of the catalog the form has resolved so far, each given
/// only if its parent is.
struct Choice<'c> {
    case_type: Option<&'c casia_core::catalog::CaseTypeEntry>,
    materia: Option<&'c casia_core::catalog::Materia>,
    category: Option<&'c casia_core::catalog::Category>,
    subcategory: Option<&'c Subcategory>,
}

fn resolve<'c>(catalog: &'c Catalog, form: &FormState) -> Choice<'c> {
    let case_type = CaseType::parse(form.value("tipo")).and_then(|t| catalog.case_type(t));
    let materia =
        case_type.and_then(|t| t.materias.iter().find(|m| m.code == form.value("materia")));
    let category = materia.and_then(|m| {
        m.categories
            .iter()
            .find(|c| c.code == form.value("categoria"))
    });
    let subcategory = category.and_then(|c| {
        c.subcategories
            .iter()
            .find(|s| s.code == form.value("subcategoria"))
    });
    Choice {
        case_type,
        materia,
        category,
        subcategory,
    }
}

/// `GET /casos/nuevo`: the classification chosen so far (query
/// `tipo`, `materia`, `categoria`, `subcategoria`) and, once complete, the
/// rest of the form.
pub async fn form(ctx: Ctx, Query(query): Query<BTreeMap<String, String>>) -> Response {
    let actor = match ctx.person() {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !matches!(actor, Actor::User { .. }) {
        return ctx.error_page(casia_core::CasiaError::Forbidden.into());
    }
    let form = FormState::with_values(query);
    render(&ctx, &form, StatusCode::OK)
}

fn options<T>(items: &[T], f: impl Fn(&T) -> (String, String)) -> Vec<(String, String)> {
    items.iter().map(f).collect()
}

fn render(ctx: &Ctx, form: &FormState, status: StatusCode) -> Response {
    let rules = ctx.state.service().rules();
    let catalog = &rules.catalog;
    let choice = resolve(catalog, form);
    let types: Vec<(String, String)> = catalog
        .case_types
        .iter()
        .map(|t| (t.code.as_str().to_owned(), t.code.label_es().to_owned()))
        .collect();
    let not_handled = choice.subcategory.and_then(|s| s.not_handled.clone());
    // After a choice the page reloads: focus goes to the level it opened
    // (or to the one just chosen when it was the last), not to the top.
    let focus = if form.value("tipo").is_empty() {
        ""
    } else if choice.case_type.is_some() && choice.materia.is_none() {
        "materia"
    } else if choice.materia.is_some() && choice.category.is_none() {
        "categoria"
    } else if choice.category.is_some() && choice.subcategory.is_none() {
        "subcategoria"
    } else {
        ""
    };
    let main = html! {
        p { "Elija la clasificación del caso; cada nivel muestra las opciones del anterior. Al elegir una opción, la página se actualiza con las siguientes." }
        (error_summary(form))
        form method="get" action="/casos/nuevo" {
            fieldset {
                legend { "Clasificación" }
                (select_with(form, "tipo", "Tipo de caso", None, "Elija un tipo", &types, false))
                @if let Some(t) = choice.case_type {
                    (select_with(form, "materia", "Materia", None, "Elija una materia", &options(&t.materias, |m| (m.code.clone(), m.label.clone())), focus == "materia"))
                }
                @if let Some(m) = choice.materia {
                    (select_with(form, "categoria", "Categoría", None, "Elija una categoría", &options(&m.categories, |c| (c.code.clone(), c.label.clone())), focus == "categoria"))
                }
                @if let Some(c) = choice.category {
                    (select_with(form, "subcategoria", "Subcategoría", None, "Elija una subcategoría", &options(&c.subcategories, |s| (s.code.clone(), s.label.clone())), focus == "subcategoria"))
                }
                button.secondary type="submit" data-classify { "Continuar" }
            }
        }
        @if let Some(message) = &not_handled {
            div.warning role="alert" {
                h2 { "CASIA no tramita esta materia" }
                p { (message) }
            }
        }
        @if let (Some(sub), None) = (choice.subcategory, &not_handled) {
            (case_form(form, catalog, sub, &ctx.csrf, &rules.limits))
        }
    };
    ctx.page_response(status, "Nuevo caso", Section::NewCase, main)
}

fn case_form(
    form: &FormState,
    catalog: &Catalog,
    sub: &Subcategory,
    csrf: &str,
    limits: &casia_core::attachment::AttachmentLimits,
) -> Markup {
    // The submission's idempotency key: a double click or a resent form
    // files one case (issue 16's Idempotency-Key, kept across re-renders).
    let key = match form.value("clave") {
        "" => crate::session::new_nonce(),
        k => k.to_owned(),
    };
    let required: Vec<FieldCode> = sub.required_data.iter().flatten().copied().collect();
    let document_types: Vec<(String, String)> = catalog
        .document_types
        .iter()
        .map(|d| (d.code.clone(), d.label.clone()))
        .collect();
    let doc_label = |code: &str| {
        catalog
            .document_type(code)
            .map_or_else(|| code.to_owned(), |d| d.label.clone())
    };
    let had_errors = !form.errors.is_empty();
    html! {
        form method="post" action="/casos/nuevo" enctype="multipart/form-data" novalidate {
            (csrf_input(csrf))
            input type="hidden" name="clave" value=(key);
            @for level in LEVELS {
                input type="hidden" name=(level) value=(form.value(level));
            }
            fieldset {
                legend { "Datos del caso" }
                (text_input(form, "titulo", "Título", Some("De 1 a 150 caracteres."), true, InputKind::Text))
                (text_area(form, "descripcion", "Descripción", Some("Explique el caso, de 1 a 4000 caracteres."), true))
                div.checkbox {
                    input type="checkbox" id="periodo_en_curso" name="periodo_en_curso" value="si" checked[form.value("periodo_en_curso") == "si"];
                    label for="periodo_en_curso" { "Afecta al periodo de liquidación en curso (se atiende antes)" }
                }
            }
            fieldset {
                legend { "Datos complementarios" }
                @if sub.required_data.is_empty() {
                    p.hint { "Esta subcategoría no exige datos complementarios; puede indicarlos si ayudan." }
                } @else {
                    p.hint {
                        "Obligatorio para esta subcategoría: "
                        @for (i, group) in sub.required_data.iter().enumerate() {
                            @if i > 0 { "; y " }
                            @if group.len() > 1 { "al menos uno de " }
                            (group.iter().map(|c| labels::complementary_field(*c).0).collect::<Vec<_>>().join(" o "))
                        }
                        "."
                    }
                }
                @for code in required.iter().copied().chain(FieldCode::ALL.into_iter().filter(|c| !required.contains(c))) {
                    @let (label, hint) = labels::complementary_field(code);
                    (text_input(form, &labels::complementary_input(code), label, Some(hint), false, InputKind::Text))
                }
            }
            fieldset {
                legend { "Documentos" }
                @if sub.required_documents.is_empty() {
                    p.hint { "Esta subcategoría no exige documentos." }
                } @else {
                    p.hint { "Documentación obligatoria: " (sub.required_documents.iter().map(|c| doc_label(c)).collect::<Vec<_>>().join(", ")) "." }
                }
                p.hint { "Formatos admitidos: PDF, JPEG, PNG, TIFF, DOC, DOCX, XLS, XLSX, ODT, ODS, RTF, texto y XML; hasta " (casia_receipt_pdf::human_size(limits.max_attachment_bytes)) " por documento, " (limits.max_attachments) " documentos y " (casia_receipt_pdf::human_size(limits.max_total_bytes)) " en total por caso. Se comprueba el contenido, no la extensión." }
                @if had_errors {
                    p.hint { "Por seguridad el navegador no conserva los ficheros elegidos: vuelva a seleccionarlos." }
                }
                (attachment_slots(form, &document_types, "De 1 a 100 caracteres; si lo deja vacío se usa el nombre del fichero."))
            }
            button type="submit" { "Presentar el caso" }
        }
    }
}

/// A multipart form read whole: text fields and file fields (name → file
/// name and content; an empty file input is left out).
pub struct PostedForm {
    /// The text fields.
    pub values: BTreeMap<String, String>,
    /// The chosen files by input name: in memory, or staged in a file as
    /// they arrived (`staging`, issue 17).
    pub files: BTreeMap<String, (String, AttachmentContent)>,
}

/// Why a posted form could not be read.
#[derive(Debug)]
pub enum FormError {
    /// Not a well-formed multipart body (400).
    Malformed,
    /// Its text fields together are over
    /// [`JSON_PART_LIMIT`](casia_http::extract::JSON_PART_LIMIT) (413).
    TooLarge,
    /// A file could not be staged: the server's fault, shown as such.
    Staging(String),
}

impl FormError {
    /// The page for the error: 400, 413, or the service's error page.
    pub fn page(&self, ctx: &Ctx, section: Section) -> Response {
        match self {
            FormError::Malformed => ctx.page_response(
                StatusCode::BAD_REQUEST,
                "Formulario no válido",
                section,
                html! { p { "El formulario no ha llegado completo; vuelva atrás y envíelo de nuevo." } },
            ),
            FormError::TooLarge => ctx.page_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Formulario demasiado grande",
                section,
                html! { p { "Los textos del formulario son demasiado largos; acórtelos y envíelo de nuevo." } },
            ),
            FormError::Staging(why) => ctx.error_page(ServiceError::Store(
                casia_core::StoreError::backend(format!("staging an upload: {why}")),
            )),
        }
    }
}

/// Reads a `multipart/form-data` body. With `staging`, each file is
/// written to a staging file as it arrives instead of being read into
/// memory (and `streamed` tells the body budget so); the text fields
/// together are at most
/// [`JSON_PART_LIMIT`](casia_http::extract::JSON_PART_LIMIT) bytes.
///
/// # Errors
///
/// [`FormError`]: a malformed body, text fields too long, or a file that
/// could not be staged.
pub async fn read_form(
    mut multipart: Multipart,
    mut staging: Option<&mut Staging>,
    streamed: Option<&StreamedBody>,
) -> Result<PostedForm, FormError> {
    let malformed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            FormError::TooLarge
        } else {
            FormError::Malformed
        }
    };
    let mut posted = PostedForm {
        values: BTreeMap::new(),
        files: BTreeMap::new(),
    };
    let mut text_bytes = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                // Only the slots' file inputs are read, each once; any
                // other file is skipped, kept neither in memory nor on disk.
                if !is_slot_file(&name) || posted.files.contains_key(&name) {
                    while field.chunk().await.map_err(malformed)?.is_some() {}
                    continue;
                }
                let content: AttachmentContent = match staging.as_deref_mut() {
                    Some(staging) => match staging.stage_field(&mut field, streamed).await {
                        Ok(staged) => AttachmentContent::Staged(staged),
                        Err(casia_http::problem::ApiError::Malformed(_)) => {
                            return Err(FormError::Malformed);
                        }
                        Err(casia_http::problem::ApiError::PayloadTooLarge) => {
                            return Err(FormError::TooLarge);
                        }
                        Err(e) => return Err(FormError::Staging(format!("{e:?}"))),
                    },
                    None => field.bytes().await.map_err(malformed)?.into(),
                };
                if !(file_name.is_empty() && content.size() == 0) {
                    posted.files.entry(name).or_insert((file_name, content));
                }
            }
            None => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    text_bytes += chunk.len();
                    if text_bytes > casia_http::extract::JSON_PART_LIMIT {
                        return Err(FormError::TooLarge);
                    }
                    text.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(text).map_err(|_| FormError::Malformed)?;
                posted.values.entry(name).or_insert(text);
            }
        }
    }
    Ok(posted)
}

/// The input `part` (`tipo`, `titulo`, `fichero`) of attachment slot
/// `slot`: `adjunto_<slot>_<part>`.
pub fn slot_input(slot: usize, part: &str) -> String {
    format!("adjunto_{slot}_{part}")
}

/// The [`ATTACHMENT_SLOTS`] fieldsets of a form that takes documents: a
/// type among `document_types`, a title (with `title_hint`) and a file.
pub fn attachment_slots(
    form: &FormState,
    document_types: &[(String, String)],
    title_hint: &str,
) -> Markup {
    html! {
        @for slot in 1..=ATTACHMENT_SLOTS {
            fieldset.attachment {
                legend { "Documento " (slot) }
                (select(form, &slot_input(slot, "tipo"), "Tipo de documento", None, "Elija un tipo", document_types))
                (text_input(form, &slot_input(slot, "titulo"), "Título del documento", Some(title_hint), false, InputKind::Text))
                (file_input(form, &slot_input(slot, "fichero"), "Fichero", None))
            }
        }
    }
}

/// Whether `name` is the file input of an attachment slot
/// (`adjunto_N_fichero`, N in `1..=ATTACHMENT_SLOTS`).
fn is_slot_file(name: &str) -> bool {
    (1..=ATTACHMENT_SLOTS).any(|slot| name == slot_input(slot, "fichero"))
}

/// The attachments of slots `1..=slots` (`adjunto_N_tipo`, `_titulo`,
/// `_fichero`), in slot order, with the slot of each; a slot with a type
/// or title but no file is an error on its file input.
pub fn attachments(
    posted: &PostedForm,
    slots: usize,
) -> Result<(Vec<NewAttachment>, Vec<usize>), FieldError> {
    let mut out = Vec::new();
    let mut used = Vec::new();
    for slot in 1..=slots {
        let kind = posted
            .values
            .get(&slot_input(slot, "tipo"))
            .map_or("", |s| s.trim());
        let title = posted
            .values
            .get(&slot_input(slot, "titulo"))
            .map_or("", |s| s.trim());
        match posted.files.get(&slot_input(slot, "fichero")) {
            Some((file_name, content)) => {
                let title = if title.is_empty() {
                    file_name
                        .rsplit_once('.')
                        .map_or(file_name.as_str(), |(stem, _)| stem)
                        .chars()
                        .take(100)
                        .collect()
                } else {
                    title.to_owned()
                };
                out.push(NewAttachment {
                    document_type: kind.to_owned(),
                    title,
                    file_name: file_name.clone(),
                    content: content.clone(),
                });
                used.push(slot);
            }
            None if !kind.is_empty() || !title.is_empty() => {
                return Err(FieldError {
                    field: Some(slot_input(slot, "fichero")),
                    message: format!("Documento {slot}: elija el fichero."),
                });
            }
            None => {}
        }
    }
    Ok((out, used))
}

/// `POST /casos/nuevo`: submits the case (DOMAIN.md §4) and shows its
/// receipt; a refused one comes back with every value kept and the error
/// next to its field.
pub async fn submit(ctx: Ctx, multipart: Option<Multipart>) -> Response {
    let actor = match ctx.person() {
        Ok(a) => a,
        Err(r) => return r,
    };
    // Files staged for this request are deleted when it ends (moved into
    // the blob store first when accepted).
    let mut staging = Staging::for_state(&ctx.state);
    let posted = match multipart {
        Some(m) => read_form(m, staging.as_mut(), ctx.streamed.as_ref()).await,
        None => Err(FormError::Malformed),
    };
    let posted = match posted {
        Ok(p) => p,
        Err(e) => return e.page(&ctx, Section::NewCase),
    };
    if !ctx.csrf_ok(posted.values.get("csrf").map_or("", String::as_str)) {
        return ctx.csrf_refused();
    }
    let mut form = FormState::with_values(posted.values.clone());
    form.values.remove("csrf");
    let (attachments, slots) = match attachments(&posted, ATTACHMENT_SLOTS) {
        Ok(a) => a,
        Err(e) => {
            form.errors.push(e);
            return render(&ctx, &form, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let complementary_data = FieldCode::ALL
        .into_iter()
        .filter_map(|c| {
            let v = form.value(&labels::complementary_input(c)).trim();
            (!v.is_empty()).then(|| (c.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let input = SubmitInput {
        case_type: form.value("tipo").to_owned(),
        materia: form.value("materia").to_owned(),
        category: form.value("categoria").to_owned(),
        subcategory: form.value("subcategoria").to_owned(),
        affects_current_period: form.value("periodo_en_curso") == "si",
        title: form.value("titulo").to_owned(),
        description: form.value("descripcion").to_owned(),
        complementary_data,
        attachments,
    };
    let submitted = match casia_core::idempotency::IdempotencyKey::parse(form.value("clave")) {
        Some(key) => ctx
            .state
            .service()
            .submit_idempotent(&actor, &input, &key)
            .await
            .map(|s| s.outcome),
        None => ctx.state.service().submit(&actor, &input).await,
    };
    match submitted {
        Ok(outcome) => redirect(&format!("/casos/{}/justificante", outcome.case.number)),
        Err(ServiceError::Idempotency(_)) => ctx.page_response(
            StatusCode::CONFLICT,
            "Formulario ya presentado",
            Section::NewCase,
            html! {
                p { "Este formulario ya se ha presentado (o se está presentando): no se ha creado otro caso. Consulte sus casos en " a href="/" { "Inicio" } " o " a href="/casos/nuevo" { "empiece un caso nuevo" } "." }
            },
        ),
        Err(ServiceError::Rule(rule)) => {
            let rules = ctx.state.service().rules();
            let e = labels::error_message(&rule, &|f| input_for(&rules.catalog, f, &slots));
            form.errors.push(e);
            render(&ctx, &form, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => ctx.error_page(other),
    }
}

/// The receipt of case `number` for the signed-in visitor, or the page
/// that says why not (sign in, not found, unavailable).
async fn receipt_of(ctx: &Ctx, number: &str) -> Result<casia_core::receipt::Receipt, Response> {
    let actor = ctx.person()?;
    let number = CaseNumber::parse(number)
        .map_err(|_| ctx.error_page(casia_core::CasiaError::NotFound.into()))?;
    ctx.state
        .service()
        .receipt(&actor, number)
        .await
        .map_err(|e| ctx.error_page(e))
}

/// `GET /casos/{número}/justificante`: the receipt — number, Madrid date
/// and time, verification code, what was filed — and its PDF.
pub async fn receipt(ctx: Ctx, Path(number): Path<String>) -> Response {
    let receipt = match receipt_of(&ctx, &number).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let b = &receipt.body;
    let verify_url =
        casia_receipt_pdf::verification_url(ctx.state.public_url(), &receipt.verification_code);
    let main = html! {
        div.notice role="status" {
            p { "Caso presentado. Conserve este justificante: su código permite a cualquiera comprobarlo." }
        }
        dl.summary {
            dt { "Número de caso" } dd #numero { (b.number) }
            dt { "Fecha y hora de presentación" } dd { (b.submitted_at_madrid) " (hora de Madrid)" }
            dt { "Código de verificación" } dd #codigo { code { (receipt.verification_code) } }
            dt { "Autorización RED" } dd { (b.authorization) }
            dt { "Usuario" } dd { (b.user) }
            dt { "Tipo de caso" } dd { (b.case_type.label) }
            dt { "Materia" } dd { (b.materia.label) }
            dt { "Categoría" } dd { (b.category.label) }
            dt { "Subcategoría" } dd { (b.subcategory.label) }
            dt { "Título" } dd { (b.title) }
            dt { "Afecta al periodo en curso" } dd { @if b.affects_current_period { "Sí" } @else { "No" } }
        }
        @if !b.attachments.is_empty() {
            table {
                caption { "Documentos presentados" }
                thead { tr { th scope="col" { "Título" } th scope="col" { "Fichero" } th scope="col" { "Tamaño" } th scope="col" { "Huella SHA-256" } } }
                tbody {
                    @for a in &b.attachments {
                        tr { td { (a.title) } td { (a.file_name) } td { (casia_receipt_pdf::human_size(a.size)) } td.hash { code { (a.sha256) } } }
                    }
                }
            }
        }
        p { "Compruebe el justificante en " a href=(verify_url) { (verify_url) } "." }
        ul.actions {
            li { a href={ "/casos/" (b.number) "/justificante.pdf" } { "Descargar el justificante en PDF" } }
            li { a href={ "/casos/" (b.number) } { "Ver el caso" } }
        }
    };
    ctx.page_response(
        StatusCode::OK,
        "Justificante de apertura",
        Section::Cases,
        main,
    )
}

/// `GET /casos/{número}/justificante.pdf`: the receipt as the API's PDF.
pub async fn receipt_pdf(ctx: Ctx, Path(number): Path<String>) -> Response {
    let receipt = match receipt_of(&ctx, &number).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let number = receipt.body.number;
    match casia_receipt_pdf::render(
        &receipt,
        &ctx.state.service().rules().catalog,
        ctx.state.public_url(),
    ) {
        Ok(pdf) => {
            let mut r = pdf.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("inline; filename=\"justificante-{number}.pdf\""))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %casia_core::error::report(&e), "receipt PDF");
            ctx.page_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Justificante no disponible",
                Section::Cases,
                html! { p { "No se ha podido generar el PDF. El justificante sigue disponible en " a href={ "/casos/" (number) "/justificante" } { "su página" } "." } },
            )
        }
    }
}
