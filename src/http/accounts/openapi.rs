//! The `/api/auth` part of the OpenAPI document: Better Auth's routes with the bodies and errors
//! of [`super::responses`]. Merged into the task API's document by the task API's.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::responses::*;
use super::{sessions, sign, user};
use crate::domain::accounts::{AuditEvent, SessionView, User};
use crate::http::error::AuthErrorBody;
use crate::services::keys::{Jwk, JwkSet};

#[derive(OpenApi)]
#[openapi(
    paths(
        sign::sign_up, sign::sign_in, sign::get_session, sign::sign_out, sign::token,
        sessions::list_sessions, sessions::revoke_session, sessions::revoke_sessions,
        sessions::revoke_other_sessions, user::change_password, user::update_user,
        user::delete_user, user::audit_events, sign::jwks,
    ),
    components(
        schemas(
            AuthErrorBody, User, SessionView<'static>, AuditEvent, SessionStarted, SignedIn,
            SessionAndUser<'static>, AccessToken, Done, Success, JwkSet, Jwk, sign::SignUp, sign::SignIn,
            sessions::RevokeSession, user::ChangePassword, user::DeleteUser, user::UpdateUser,
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
