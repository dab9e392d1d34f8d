//! `/entrar` and `/salir`: the development sign-in (`serve --dev-login`)
//! and signing out.
//!
//! In production the pages take the identity provider's token from
//! `Authorization: Bearer` (set by a proxy in front of the service); the
//! development form mints a token with the service's own secret for the
//! role and identity picked, and keeps it in the `casia_session` cookie.

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use maud::{Markup, html};

use casia_core::{Actor, AuthorizationId, OfficeCode, ProcessorId, ProvinceCode, UserId};
use casia_http::Claims;

use crate::labels::FieldError;
use crate::layout::{FormState, InputKind, Section, csrf_input, error_summary, text_input};
use crate::session::{NONCE_COOKIE, SESSION_COOKIE, new_nonce, set_cookie};
use crate::{Ctx, form_fields, redirect};

/// How long a development session lasts: 8 hours, one working day.
pub const SESSION_SECONDS: u64 = 8 * 3600;

/// What a signed-out visitor is told when there is no development sign-in.
pub fn how_to_sign_in() -> Markup {
    html! {
        p { "Para usar CASIA identifíquese en el portal de su organización: el acceso llega a este servicio con su credencial." }
        p { "Quien administra el servicio puede activar el acceso de desarrollo con " code { "casia serve --dev-login" } "." }
        p { "Para comprobar un justificante no hace falta identificarse: " a href="/verificar" { "Verificar justificante" } "." }
    }
}

/// `GET /entrar`: the development sign-in form (or, without
/// `--dev-login`, how to sign in).
pub async fn form(ctx: Ctx) -> Response {
    if !ctx.config.dev_login {
        return ctx.page_response(StatusCode::OK, "Acceso", Section::SignIn, how_to_sign_in());
    }
    let mut form = FormState::default();
    form.values.insert("perfil".into(), "usuario".into());
    form.values.insert("provincia".into(), "28".into());
    form.values.insert("oficina".into(), "28".into());
    render(&ctx, &form, StatusCode::OK)
}

fn render(ctx: &Ctx, form: &FormState, status: StatusCode) -> Response {
    // The form's CSRF token is bound to a nonce cookie until a session
    // exists.
    let (nonce_cookie, csrf) = match (&ctx.visitor.token, &ctx.visitor.nonce) {
        (None, None) => {
            let nonce = new_nonce();
            let csrf = crate::session::csrf_token(&ctx.config, &nonce);
            (
                Some(set_cookie(&ctx.config, NONCE_COOKIE, &nonce, 3600)),
                csrf,
            )
        }
        _ => (None, ctx.csrf.clone()),
    };
    let profile = form.value("perfil");
    let main = html! {
        p { "Acceso de desarrollo: elija un perfil y una identidad. La sesión dura 8 horas." }
        (error_summary(form))
        form method="post" action="/entrar" novalidate {
            (csrf_input(&csrf))
            fieldset {
                legend { "Perfil" }
                div.radio {
                    input type="radio" id="perfil-usuario" name="perfil" value="usuario" checked[profile != "tramitador"];
                    label for="perfil-usuario" { "Usuario de un autorizado RED" }
                }
                div.radio {
                    input type="radio" id="perfil-tramitador" name="perfil" value="tramitador" checked[profile == "tramitador"];
                    label for="perfil-tramitador" { "Tramitador de una dirección provincial" }
                }
            }
            fieldset {
                legend { "Usuario de un autorizado RED" }
                (text_input(form, "autorizacion", "Autorización RED", Some("1 a 64 letras, dígitos, puntos o guiones, por ejemplo AUT-0001."), false, InputKind::Text))
                (text_input(form, "usuario", "Usuario", Some("Su identificador de usuario."), false, InputKind::Text))
                (text_input(form, "provincia", "Provincia del domicilio", Some("Código de dos dígitos, 01–52 (28 Madrid, 08 Barcelona)."), false, InputKind::Text))
            }
            fieldset {
                legend { "Tramitador" }
                (text_input(form, "tramitador", "Tramitador", Some("Su identificador de tramitador."), false, InputKind::Text))
                (text_input(form, "oficina", "Dirección provincial", Some("Código de provincia de dos dígitos, 01–52."), false, InputKind::Text))
            }
            button type="submit" { "Entrar" }
        }
    };
    let mut r = ctx.page_response(status, "Entrar", Section::SignIn, main);
    if let Some(cookie) = nonce_cookie
        && let Ok(v) = HeaderValue::from_str(&cookie)
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The actor a sign-in form names, or the errors of its fields.
pub fn actor_from_form(form: &FormState) -> Result<Actor, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: &str| {
        errors.push(FieldError {
            field: Some(field.to_owned()),
            message: message.to_owned(),
        });
    };
    let id_rule = "use de 1 a 64 letras, dígitos, puntos, guiones o guiones bajos.";
    let province_rule = "escriba un código de provincia de dos dígitos, de 01 a 52.";
    let actor = if form.value("perfil") == "tramitador" {
        let processor = ProcessorId::parse(form.value("tramitador").trim());
        let office = OfficeCode::parse(form.value("oficina").trim());
        if processor.is_err() {
            err("tramitador", &format!("Tramitador: {id_rule}"));
        }
        if office.is_err() {
            err("oficina", &format!("Dirección provincial: {province_rule}"));
        }
        match (processor, office) {
            (Ok(processor), Ok(office)) => Some(Actor::Processor { processor, office }),
            _ => None,
        }
    } else {
        let authorization = AuthorizationId::parse(form.value("autorizacion").trim());
        let user = UserId::parse(form.value("usuario").trim());
        let province = ProvinceCode::parse(form.value("provincia").trim());
        if authorization.is_err() {
            err("autorizacion", &format!("Autorización RED: {id_rule}"));
        }
        if user.is_err() {
            err("usuario", &format!("Usuario: {id_rule}"));
        }
        if province.is_err() {
            err("provincia", &format!("Provincia: {province_rule}"));
        }
        match (authorization, user, province) {
            (Ok(authorization), Ok(user), Ok(province)) => Some(Actor::User {
                authorization,
                user,
                province,
            }),
            _ => None,
        }
    };
    actor.ok_or(errors)
}

/// `POST /entrar`: signs in as the actor the form names.
pub async fn sign_in(ctx: Ctx, body: Bytes) -> Response {
    let form = FormState::with_values(form_fields(&body));
    if !ctx.csrf_ok(form.value("csrf")) {
        return ctx.csrf_refused();
    }
    let actor = match actor_from_form(&form) {
        Ok(a) => a,
        Err(errors) => {
            let mut form = form;
            form.errors = errors;
            return render(&ctx, &form, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let now = chrono::Utc::now().timestamp().max(0).unsigned_abs();
    let token = match ctx
        .state
        .auth()
        .mint(&Claims::for_actor(&actor, now, SESSION_SECONDS))
    {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "dev sign-in: cannot mint a token");
            return ctx.page_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "Acceso no disponible",
                Section::SignIn,
                html! { p { "El acceso de desarrollo necesita el secreto de firma del servicio." } },
            );
        }
    };
    let mut r = redirect("/");
    if let Ok(v) = HeaderValue::from_str(&set_cookie(
        &ctx.config,
        SESSION_COOKIE,
        &token,
        SESSION_SECONDS,
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `POST /salir`: forgets the session cookie.
pub async fn sign_out(ctx: Ctx, body: Bytes) -> Response {
    let form = form_fields(&body);
    if !ctx.csrf_ok(form.get("csrf").map_or("", String::as_str)) {
        return ctx.csrf_refused();
    }
    let mut r = redirect(if ctx.config.dev_login { "/entrar" } else { "/" });
    if let Ok(v) = HeaderValue::from_str(&set_cookie(&ctx.config, SESSION_COOKIE, "", 0)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}
