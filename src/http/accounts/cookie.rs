//! The session cookie in Better Auth's exact format, and the signed token other clients carry in
//! `set-auth-token` / `Authorization: Bearer`: `encodeURIComponent(token + "." + base64(HMAC-SHA256(
//! secret, token)))`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::domain::accounts::{SESSION_LIFETIME, SessionToken};

/// What `encodeURIComponent` leaves alone: letters, digits and `-_.!~*'()`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

const NAME: &str = "better-auth.session_token";
const SECURE_NAME: &str = "__Secure-better-auth.session_token";

/// Signs and reads session cookies under the server secret.
#[derive(Clone)]
pub struct CookieJar {
    secret: SecretString,
    /// https: the `__Secure-` name and the `Secure` attribute.
    secure: bool,
}

impl CookieJar {
    pub fn new(secret: SecretString, secure: bool) -> Self {
        Self { secret, secure }
    }

    pub fn name(&self) -> &'static str {
        if self.secure { SECURE_NAME } else { NAME }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(self.secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
    }

    /// The cookie's value for `token`, URI-encoded: also the `set-auth-token` header's value.
    pub fn signed_value(&self, token: &SessionToken) -> String {
        let mut mac = self.mac();
        mac.update(token.expose().as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());
        utf8_percent_encode(&format!("{}.{signature}", token.expose()), URI_COMPONENT).to_string()
    }

    /// The token in a signed value (URI-encoded or not), when its signature verifies.
    pub fn verify_signed(&self, value: &str) -> Option<SessionToken> {
        let decoded = percent_decode_str(value).decode_utf8().ok()?;
        let (token, signature) = decoded.rsplit_once('.')?;
        let signature = STANDARD.decode(signature).or_else(|_| URL_SAFE_NO_PAD.decode(signature));
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        mac.verify_slice(&signature.ok()?).ok()?;
        SessionToken::parse(token)
    }

    /// The session token of a request: the signed cookie, else a bearer token (signed, or the
    /// bare token as Better Auth's bearer plugin also accepts).
    pub fn token_of(&self, headers: &axum::http::HeaderMap) -> Option<SessionToken> {
        self.token_in_cookie(headers).or_else(|| self.token_in_bearer(headers))
    }

    fn token_in_cookie(&self, headers: &axum::http::HeaderMap) -> Option<SessionToken> {
        let name = self.name();
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(key, _)| *key == name)
            .find_map(|(_, value)| self.verify_signed(value))
    }

    fn token_in_bearer(&self, headers: &axum::http::HeaderMap) -> Option<SessionToken> {
        let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = token.trim();
        if token.contains('.') || token.contains('%') {
            self.verify_signed(token)
        } else {
            SessionToken::parse(token)
        }
    }

    /// `Set-Cookie` for a session that lasts Better Auth's seven days.
    pub fn set(&self, token: &SessionToken) -> String {
        let max_age = SESSION_LIFETIME.whole_seconds();
        self.header(&self.signed_value(token), max_age)
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn clear(&self) -> String {
        self.header("", 0)
    }

    fn header(&self, value: &str, max_age: i64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}",
            self.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header};

    fn jar() -> CookieJar {
        CookieJar::new("a-unit-test-secret-of-32-bytes-or-more".into(), false)
    }

    #[test]
    fn the_value_is_the_token_a_dot_and_the_uri_encoded_base64_hmac() {
        let token = SessionToken::parse("abcdefghijklmnopqrstuvwxyzABCDEF").unwrap();
        let mut mac = jar().mac();
        mac.update(token.expose().as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());
        let expected = format!(
            "{}.{}",
            token.expose(),
            signature.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
        );
        assert_eq!(jar().signed_value(&token), expected);
        assert_eq!(jar().verify_signed(&expected), Some(token));
    }

    #[test]
    fn a_value_signed_with_another_secret_is_refused() {
        let token = SessionToken::generate();
        let other = CookieJar::new("another-secret-of-at-least-32-bytes-long".into(), false);
        assert_eq!(jar().verify_signed(&other.signed_value(&token)), None);
    }

    #[test]
    fn the_token_is_read_from_the_cookie_or_a_bearer_header() {
        let token = SessionToken::generate();
        let mut headers = HeaderMap::new();
        let cookie = format!("other=1; {}={}", NAME, jar().signed_value(&token));
        headers.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert_eq!(jar().token_of(&headers), Some(token.clone()));

        for bearer in [jar().signed_value(&token), token.expose().to_owned()] {
            let mut headers = HeaderMap::new();
            let value = HeaderValue::from_str(&format!("Bearer {bearer}")).unwrap();
            headers.insert(header::AUTHORIZATION, value);
            assert_eq!(jar().token_of(&headers), Some(token.clone()));
        }
    }

    #[test]
    fn https_cookies_are_secure_and_prefixed() {
        let secure = CookieJar::new("a-unit-test-secret-of-32-bytes-or-more".into(), true);
        let set = secure.set(&SessionToken::generate());
        assert!(set.starts_with("__Secure-better-auth.session_token="), "{set}");
        assert!(set.ends_with("; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax; Secure"), "{set}");
        assert!(!jar().set(&SessionToken::generate()).contains("Secure"));
    }
}
