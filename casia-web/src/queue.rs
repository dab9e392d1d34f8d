//! `/cola`: a processor's office work queue (DOMAIN.md §7): the cases
//! `submitted`, `assigned`, `escalated` or `transferred` routed to the
//! office, those affecting the filing period in progress first, then the
//! oldest.

use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use casia_core::Actor;

use crate::Ctx;
use crate::browse::case_table;
use crate::layout::Section;

/// `GET /cola` (and `/` for processors).
pub async fn queue(ctx: Ctx) -> Response {
    let actor = match ctx.person() {
        Ok(a) => a,
        Err(r) => return r,
    };
    let cases = match ctx.state.service().queue(&actor).await {
        Ok(c) => c,
        Err(e) => return ctx.error_page(e),
    };
    let office = match &actor {
        Actor::Processor { office, .. } => office.to_string(),
        _ => String::new(),
    };
    let catalog = &ctx.state.service().rules().catalog;
    let main = html! {
        p { "Casos pendientes de la dirección provincial " (office) ": primero los que afectan al periodo de liquidación en curso, después los más antiguos." }
        @if cases.is_empty() {
            p role="status" { "No hay casos pendientes." }
        } @else {
            (case_table(&cases, catalog, &format!("Cola de trabajo: {} casos", cases.len())))
        }
    };
    ctx.page_response(StatusCode::OK, "Cola de trabajo", Section::Queue, main)
}
