//! `/verificar`: anyone holding a receipt's verification code checks it
//! (the código seguro de verificación of Ley 40/2015 art. 42), without
//! signing in. Rate-limited per address with the API's verification
//! (`casia_http::limits`).

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use crate::Ctx;
use crate::layout::{FormState, InputKind, Section, error_summary, text_input};

/// `GET /verificar?codigo=`: the form, and the receipt the code certifies.
pub async fn verify(ctx: Ctx, Query(query): Query<BTreeMap<String, String>>) -> Response {
    let mut form = FormState::with_values(query);
    let code = form.value("codigo").trim().to_owned();
    let found = if code.is_empty() {
        None
    } else {
        match ctx.state.service().verify_receipt(&code).await {
            Ok(r) => Some(r),
            Err(e) => return ctx.error_page(e),
        }
    };
    let status = match &found {
        Some(None) => {
            form.errors.push(crate::labels::FieldError {
                field: Some("codigo".into()),
                message: "Ese código no corresponde a ningún justificante. Compruebe que lo ha copiado entero (20 letras y números).".into(),
            });
            StatusCode::NOT_FOUND
        }
        _ => StatusCode::OK,
    };
    let main = html! {
        p { "Escriba el código de verificación que figura en el justificante de apertura; no distingue mayúsculas y puede llevar o no los guiones." }
        (error_summary(&form))
        form method="get" action="/verificar" {
            (text_input(&form, "codigo", "Código de verificación", Some("Por ejemplo ABCD-EFGH-IJKL-MNOP-QRST."), true, InputKind::Text))
            button type="submit" { "Verificar" }
        }
        @if let Some(Some(r)) = &found {
            div.notice role="status" {
                h2 { "Justificante auténtico" }
                dl.summary {
                    dt { "Número de caso" } dd { (r.body.number) }
                    dt { "Presentado" } dd { (r.body.submitted_at_madrid) " (hora de Madrid)" }
                    dt { "Autorización RED" } dd { (r.body.authorization) }
                    dt { "Tipo de caso" } dd { (r.body.case_type.label) }
                    dt { "Materia" } dd { (r.body.materia.label) }
                    dt { "Subcategoría" } dd { (r.body.subcategory.label) }
                    dt { "Título" } dd { (r.body.title) }
                    dt { "Documentos" } dd { (r.body.attachments.len()) }
                }
            }
        }
    };
    ctx.page_response(status, "Verificar un justificante", Section::Verify, main)
}
