//! The `/api/auth` part of the OpenAPI document: Better Auth's routes with the bodies and errors
//! of [`super::responses`]. Merged into the task API's document by the task API's.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::responses::*;
use crate::domain::accounts::{AuditEvent, SessionView, User};
use crate::http::accounts as router;

#[derive(OpenApi)]
#[openapi(
    paths(
        router::sign_up, router::sign_in, router::get_session, router::sign_out, router::token,
        router::list_sessions, router::revoke_session, router::revoke_sessions,
        router::revoke_other_sessions, router::change_password, router::update_user,
        router::delete_user, router::audit_events, router::jwks,
    ),
    components(
        schemas(
            AuthErrorBody, User, SessionView<'static>, AuditEvent, SessionStarted, SignedIn,
            CurrentSession, AccessToken, Done, Success, Jwks, router::SignUp, router::SignIn,
            router::RevokeSession, router::ChangePassword, router::DeleteUser, UpdateUser,
        ),
        responses(
            AuthBadRequest, AuthSignUpRefused, AuthSignInRefused, AuthNewPasswordRefused,
            AuthWrongPassword, AuthUpdateRefused, AuthUnauthorized, AuthInvalidCredentials,
            AuthCrossSite, AuthPayloadTooLarge, AuthUnsupportedMediaType, AuthEmailTaken,
            AuthTooManyRequests,
            AuthUnavailable,
        ),
    ),
    modifiers(&SessionAuth),
    tags((
        name = "auth",
        description = "Accounts and sessions, in Better Auth's HTTP protocol (its client library works \
            unchanged). A session is named by the session cookie, or by `Authorization: Bearer \
            <session token>`; a POST that carries the cookie must come from a trusted origin. \
            `GET /api/auth/token` turns a session into the short-lived JWT the task API takes."
    ))
)]
pub struct AuthDoc;

/// The session's two ways in: the cookie a browser holds, and the bearer header other clients send.
struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "SessionCookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "better-auth.session_token",
                "The signed session cookie (`__Secure-better-auth.session_token` when the public \
                 URL is https)",
            ))),
        );
        components.add_security_scheme(
            "SessionBearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The session token (not the task API's JWT)"))
                    .build(),
            ),
        );
    }
}
