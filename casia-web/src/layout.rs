//! The page shell and the form pieces every page uses, written once so
//! that each page is accessible the same way (WCAG 2.1 AA): a language, a
//! skip link, landmarks, one `h1`, labels tied to inputs, hints and errors
//! tied by `aria-describedby`, an error summary that links to the fields,
//! and no inline script or style (the Content-Security-Policy forbids them).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Madrid;
use maud::{DOCTYPE, Markup, html};

use casia_core::Actor;

use crate::labels::FieldError;

/// What a form was sent with and what went wrong with it: re-rendered
/// with the visitor's input kept and each error next to its field.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    /// The submitted values by input name.
    pub values: BTreeMap<String, String>,
    /// The errors to show; the first ones without a field go on top.
    pub errors: Vec<FieldError>,
}

impl FormState {
    /// A form filled with `values`, no errors.
    pub fn with_values(values: BTreeMap<String, String>) -> FormState {
        FormState {
            values,
            errors: Vec::new(),
        }
    }

    /// The value sent for `name` ("" when none).
    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// The error shown next to `name`, if any.
    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field.as_deref() == Some(name))
            .map(|e| e.message.as_str())
    }
}

/// A Madrid date and time, `dd/mm/aaaa hh:mm`.
pub fn madrid_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Madrid)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// A date, `dd/mm/aaaa`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Which part of the site a page belongs to (marks the navigation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `/`.
    Home,
    /// `/casos/nuevo`.
    NewCase,
    /// `/casos` and a case's pages.
    Cases,
    /// `/cola`.
    Queue,
    /// `/verificar`.
    Verify,
    /// `/entrar`.
    SignIn,
}

/// A whole page: `title` (also its `h1`), the navigation for `who`, the
/// sign-out form (with `csrf`), and `main`.
pub fn page(
    title: &str,
    section: Section,
    who: Option<&Actor>,
    csrf: &str,
    main: Markup,
) -> Markup {
    let current = |s: Section| (s == section).then_some("page");
    html! {
        (DOCTYPE)
        html lang="es" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · CASIA" }
                link rel="stylesheet" href="/static/casia.css";
                script src="/static/casia.js" defer {}
            }
            body {
                a.skip href="#contenido" { "Saltar al contenido" }
                header.site {
                    p.brand { a href="/" { "CASIA" } " · Atención a autorizados del Sistema RED" }
                    nav aria-label="Principal" {
                        ul {
                            @if who.is_some() {
                                li { a href="/" aria-current=[current(Section::Home)] { "Inicio" } }
                            }
                            @if matches!(who, Some(Actor::User { .. })) {
                                li { a href="/casos/nuevo" aria-current=[current(Section::NewCase)] { "Nuevo caso" } }
                            }
                            @if who.is_some() {
                                li { a href="/casos" aria-current=[current(Section::Cases)] { "Gestión de casos" } }
                            }
                            @if matches!(who, Some(Actor::Processor { .. })) {
                                li { a href="/cola" aria-current=[current(Section::Queue)] { "Cola de trabajo" } }
                            }
                            li { a href="/verificar" aria-current=[current(Section::Verify)] { "Verificar justificante" } }
                        }
                    }
                    @if let Some(actor) = who {
                        div.identity {
                            p { (identity(actor)) }
                            form method="post" action="/salir" {
                                input type="hidden" name="csrf" value=(csrf);
                                button.link type="submit" { "Salir" }
                            }
                        }
                    }
                }
                main #contenido tabindex="-1" {
                    h1 { (title) }
                    (main)
                }
                footer.site {
                    p { "Tesorería General de la Seguridad Social · Servicio de casos CASIA" }
                }
            }
        }
    }
}

/// Who is signed in, in words.
pub fn identity(actor: &Actor) -> String {
    match actor {
        Actor::User {
            authorization,
            user,
            province,
        } => format!("Usuario {user} · autorización {authorization} · provincia {province}"),
        Actor::Processor { processor, office } => {
            format!("Tramitador {processor} · dirección provincial {office}")
        }
        Actor::System => "Sistema".to_owned(),
    }
}

/// The error summary at the top of a form (GOV.UK pattern): a titled
/// alert listing every error, each linked to its field.
pub fn error_summary(form: &FormState) -> Markup {
    html! {
        @if !form.errors.is_empty() {
            div.error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 #error-summary-title { "Revise estos datos" }
                ul {
                    @for e in &form.errors {
                        li {
                            @match &e.field {
                                Some(f) => a href={ "#" (f) } { (e.message) },
                                None => (e.message),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The kinds of a one-line input.
#[derive(Debug, Clone, Copy)]
pub enum InputKind {
    /// `type=text`.
    Text,
    /// `type=date`.
    Date,
    /// `type=number`.
    Number,
}

/// A labelled one-line input `name` with an optional hint, its kept value
/// and its error.
pub fn text_input(
    form: &FormState,
    name: &str,
    label: &str,
    hint: Option<&str>,
    required: bool,
    kind: InputKind,
) -> Markup {
    let error = form.error(name);
    let described = described_by(name, hint.is_some(), error.is_some());
    let kind = match kind {
        InputKind::Text => "text",
        InputKind::Date => "date",
        InputKind::Number => "number",
    };
    html! {
        div.field.invalid[error.is_some()] {
            label for=(name) { (label) @if required { " " span.required { "(obligatorio)" } } }
            @if let Some(h) = hint { p.hint id={ (name) "-hint" } { (h) } }
            @if let Some(e) = error { p.error id={ (name) "-error" } { span.visually-hidden { "Error: " } (e) } }
            input type=(kind) id=(name) name=(name) value=(form.value(name))
                required[required]
                aria-describedby=[described]
                aria-invalid=[error.map(|_| "true")];
        }
    }
}

/// A labelled text area.
pub fn text_area(
    form: &FormState,
    name: &str,
    label: &str,
    hint: Option<&str>,
    required: bool,
) -> Markup {
    let error = form.error(name);
    let described = described_by(name, hint.is_some(), error.is_some());
    html! {
        div.field.invalid[error.is_some()] {
            label for=(name) { (label) @if required { " " span.required { "(obligatorio)" } } }
            @if let Some(h) = hint { p.hint id={ (name) "-hint" } { (h) } }
            @if let Some(e) = error { p.error id={ (name) "-error" } { span.visually-hidden { "Error: " } (e) } }
            textarea id=(name) name=(name) rows="5"
                required[required]
                aria-describedby=[described]
                aria-invalid=[error.map(|_| "true")] { (form.value(name)) }
        }
    }
}

/// A labelled select of `(value, label)` options with `placeholder` first.
pub fn select(
    form: &FormState,
    name: &str,
    label: &str,
    hint: Option<&str>,
    placeholder: &str,
    options: &[(String, String)],
) -> Markup {
    select_with(form, name, label, hint, placeholder, options, false)
}

/// [`select`], focused when the page loads if `autofocus`.
pub fn select_with(
    form: &FormState,
    name: &str,
    label: &str,
    hint: Option<&str>,
    placeholder: &str,
    options: &[(String, String)],
    autofocus: bool,
) -> Markup {
    let error = form.error(name);
    let described = described_by(name, hint.is_some(), error.is_some());
    let chosen = form.value(name);
    html! {
        div.field.invalid[error.is_some()] {
            label for=(name) { (label) }
            @if let Some(h) = hint { p.hint id={ (name) "-hint" } { (h) } }
            @if let Some(e) = error { p.error id={ (name) "-error" } { span.visually-hidden { "Error: " } (e) } }
            select id=(name) name=(name) autofocus[autofocus]
                aria-describedby=[described]
                aria-invalid=[error.map(|_| "true")] {
                option value="" { (placeholder) }
                @for (value, text) in options {
                    option value=(value) selected[value == chosen] { (text) }
                }
            }
        }
    }
}

/// A labelled file input `name` (`accept` lists the accepted extensions as
/// a hint to the browser; the core decides from the content).
pub fn file_input(form: &FormState, name: &str, label: &str, hint: Option<&str>) -> Markup {
    let error = form.error(name);
    let described = described_by(name, hint.is_some(), error.is_some());
    html! {
        div.field.invalid[error.is_some()] {
            label for=(name) { (label) }
            @if let Some(h) = hint { p.hint id={ (name) "-hint" } { (h) } }
            @if let Some(e) = error { p.error id={ (name) "-error" } { span.visually-hidden { "Error: " } (e) } }
            input type="file" id=(name) name=(name)
                aria-describedby=[described]
                aria-invalid=[error.map(|_| "true")];
        }
    }
}

fn described_by(name: &str, hint: bool, error: bool) -> Option<String> {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("{name}-hint"));
    }
    if error {
        ids.push(format!("{name}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A hidden CSRF input.
pub fn csrf_input(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// A notice after an action succeeded (`role=status`, read out politely).
pub fn notice(text: &str) -> Markup {
    html! { div.notice role="status" { p { (text) } } }
}
