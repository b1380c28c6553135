//! Token verification: the key ring decides which key (and so which algorithm) may verify a token,
//! the signature is checked before any claim is read, then the claims are checked.

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use std::sync::Arc;

use super::TokenError;
use super::identity::{ClaimPolicy, Identity, Issuer, MAX_LEEWAY_SECONDS, UserId};
use crate::domain::auth::jwks::{IssuerKey, JwksIssuer, JwsAlgorithm, Lookup};
use crate::domain::auth::jws::UnverifiedJws;
use crate::domain::auth::verified::{KeySource, Validity, Verified, VerifiedTokens};

/// A key we trust, bound to the one algorithm it may verify.
pub struct TrustedKey {
    algorithm: Algorithm,
    key: DecodingKey,
}

impl TrustedKey {
    /// The shared Better Auth secret: HS256 and nothing else.
    pub fn hs256(secret: &[u8]) -> Self {
        Self { algorithm: Algorithm::HS256, key: DecodingKey::from_secret(secret) }
    }

    fn verifies(&self, jws: &UnverifiedJws<'_>) -> bool {
        jsonwebtoken::crypto::verify(
            jws.signature,
            jws.signing_input.as_bytes(),
            &self.key,
            self.algorithm,
        )
        .unwrap_or(false)
    }
}

/// The service's own accounts as a key source: the keys it signs with, and `iss` = `aud` = its
/// public URL.
pub struct OwnIssuer {
    pub keys: Arc<dyn OwnKeys>,
    /// The server secret, when the service signs its tokens HS256 (`TASKGATE_TOKEN_ALG=HS256`).
    pub secret: Option<TrustedKey>,
    pub policy: ClaimPolicy,
    /// With strict sessions: asked, for every own token, whether its `sid` is still live.
    pub sessions: Option<Arc<dyn LiveSessions>>,
    /// Asked, for every own token, whether its user's account was deleted.
    pub deleted: Option<Arc<dyn DeletedAccounts>>,
}

/// The service's own accounts deleted lately: their tokens are refused though still signed.
pub trait DeletedAccounts: Send + Sync {
    fn is_deleted(&self, user_id: &str) -> bool;
}

/// The service's own verifying keys, which change when `taskgate keys rotate` runs.
#[async_trait::async_trait]
pub trait OwnKeys: Send + Sync {
    fn keys(&self) -> Arc<Vec<IssuerKey>>;
    /// Told of a token whose kid is not among [`OwnKeys::keys`]: may read the keys again (with
    /// a cool-down, since anyone can send any kid).
    async fn unknown_kid(&self);
}

/// Whether a session of the service's own accounts is still live (strict sessions). An answer
/// may be remembered only briefly: a revocation must be seen everywhere within 5 seconds.
#[async_trait::async_trait]
pub trait LiveSessions: Send + Sync {
    /// `Err` (an [`TokenError`] to answer with) when it cannot be told.
    async fn is_live(&self, session_id: &str) -> Result<bool, TokenError>;
}

/// Every key the service trusts, each with the claim policy its tokens must meet.
pub struct TokenVerifier {
    shared_secret: Option<TrustedKey>,
    own: Option<OwnIssuer>,
    /// Applies to tokens verified with the shared secret.
    secret_policy: ClaimPolicy,
    issuers: Vec<Arc<JwksIssuer>>,
    verified: VerifiedTokens,
}

impl TokenVerifier {
    pub fn new(
        shared_secret: Option<TrustedKey>,
        secret_policy: ClaimPolicy,
        issuers: Vec<Arc<JwksIssuer>>,
    ) -> Self {
        Self {
            shared_secret,
            own: None,
            secret_policy,
            issuers,
            verified: VerifiedTokens::default(),
        }
    }

    /// Also trusts the tokens the service's own accounts mint.
    pub fn with_own_issuer(mut self, own: OwnIssuer) -> Self {
        self.own = Some(own);
        self
    }

    /// Verifies `token` at time `now` (seconds since the epoch).
    pub async fn verify(&self, token: &str, now: i64) -> Result<Identity, TokenError> {
        let (identity, source) = self.verify_remembering(token, now).await?;
        // Checked on every use, remembered or not: the signature stays good after a revocation.
        if source == KeySource::Own
            && let Some(deleted) = self.own.as_ref().and_then(|own| own.deleted.as_ref())
            && deleted.is_deleted(identity.user_id.subject())
        {
            return Err(TokenError::SessionRevoked);
        }
        if source == KeySource::Own
            && let Some(sessions) = self.own.as_ref().and_then(|own| own.sessions.as_ref())
        {
            let sid = identity.session_id.as_deref().ok_or(TokenError::InvalidTokenClaims)?;
            if !sessions.is_live(sid).await? {
                return Err(TokenError::SessionRevoked);
            }
        }
        Ok(identity)
    }

    async fn verify_remembering(
        &self,
        token: &str,
        now: i64,
    ) -> Result<(Identity, KeySource), TokenError> {
        if let Some(known) = self.verified.get(token) {
            if self.still_trusted(known.source) {
                known.validity.check(now)?;
                return Ok((known.identity, known.source));
            }
            self.verified.forget(token);
        }
        let verified = self.verify_signature_and_claims(token, now).await?;
        self.verified.insert(token, verified.clone());
        Ok((verified.identity, verified.source))
    }

    fn still_trusted(&self, source: KeySource) -> bool {
        match source {
            KeySource::SharedSecret | KeySource::Own => true,
            KeySource::Issuer { index, generation } => {
                self.issuers.get(index).is_some_and(|issuer| issuer.generation() == generation)
            }
        }
    }

    async fn verify_signature_and_claims(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Verified, TokenError> {
        let jws = UnverifiedJws::parse(token)?;
        // The key decides the algorithm: a token's `alg` only selects among keys we hold, and a key
        // verifies only with its own algorithm, so `none` or HS256-with-a-public-key find nothing.
        if jws.alg == "HS256" {
            // The service's own HS256 tokens are told from the shared secret's by their `iss`, so
            // their users stay the accounts' users and never become the shared secret's.
            if let Some(own) = &self.own
                && let Some(secret) = &own.secret
                && own.policy.issuer.is_some()
                && jws.claims.get("iss").and_then(Value::as_str) == own.policy.issuer.as_deref()
            {
                if !secret.verifies(&jws) {
                    return Err(TokenError::InvalidTokenSignature);
                }
                return check_claims(&jws, &own.policy, now, KeySource::Own, Issuer::accounts());
            }
            let key = self.shared_secret.as_ref().ok_or(TokenError::InvalidTokenSignature)?;
            if !key.verifies(&jws) {
                return Err(TokenError::InvalidTokenSignature);
            }
            let issuer = Issuer::shared_secret();
            return check_claims(&jws, &self.secret_policy, now, KeySource::SharedSecret, issuer);
        }
        let alg = JwsAlgorithm::from_name(&jws.alg).ok_or(TokenError::InvalidTokenSignature)?;
        if let Some(own) = &self.own
            && own.policy.issuer.is_some()
            && jws.claims.get("iss").and_then(Value::as_str) == own.policy.issuer.as_deref()
        {
            let mut keys = own.keys.keys();
            if matches!(JwksIssuer::lookup(&keys, jws.kid.as_deref(), alg), Lookup::Unknown) {
                own.keys.unknown_kid().await;
                keys = own.keys.keys();
            }
            return match JwksIssuer::lookup(&keys, jws.kid.as_deref(), alg) {
                Lookup::Found(key) if key.verifies(jws.signing_input.as_bytes(), jws.signature) => {
                    check_claims(&jws, &own.policy, now, KeySource::Own, Issuer::accounts())
                }
                _ => Err(TokenError::InvalidTokenSignature),
            };
        }
        let (index, issuer) = self.issuer_for(&jws)?;
        let kid = jws.kid.as_deref();
        // The generation is read before the keys: if they change in between, the entry is only
        // ever marked older than its keys, never newer.
        let mut generation = issuer.generation();
        let mut keys = issuer.keys();
        if matches!(JwksIssuer::lookup(&keys, kid, alg), Lookup::Unknown) {
            // A new kid may mean the issuer rotated its keys; the cool-down bounds the fetches.
            issuer.refresh_if_allowed().await;
            generation = issuer.generation();
            keys = issuer.keys();
        }
        match JwksIssuer::lookup(&keys, kid, alg) {
            Lookup::Found(key) if key.verifies(jws.signing_input.as_bytes(), jws.signature) => {
                let source = KeySource::Issuer { index, generation };
                check_claims(&jws, &issuer.policy, now, source, Issuer::named(issuer.issuer()))
            }
            // No usable key at all: the issuer is unreachable, which is not the client's fault.
            Lookup::Unknown if keys.is_empty() => Err(TokenError::Unavailable),
            _ => Err(TokenError::InvalidTokenSignature),
        }
    }

    /// Routes a token to the issuer its (not yet trusted) `iss` names; the claim check that
    /// follows the signature check is what enforces `iss`.
    fn issuer_for(&self, jws: &UnverifiedJws<'_>) -> Result<(usize, &Arc<JwksIssuer>), TokenError> {
        let iss = jws.claims.get("iss").and_then(Value::as_str);
        match self.issuers.iter().enumerate().find(|(_, issuer)| Some(issuer.issuer()) == iss) {
            Some(found) => Ok(found),
            None => match self.issuers.as_slice() {
                [only] => Ok((0, only)),
                [] => Err(TokenError::InvalidTokenSignature),
                _ => Err(TokenError::InvalidTokenClaims),
            },
        }
    }
}

fn check_claims(
    jws: &UnverifiedJws<'_>,
    policy: &ClaimPolicy,
    now: i64,
    source: KeySource,
    issuer: Issuer,
) -> Result<Verified, TokenError> {
    let claims = &jws.claims;
    let leeway = policy.leeway_seconds.min(MAX_LEEWAY_SECONDS) as f64;

    let exp = numeric_date(claims, "exp")?.ok_or(TokenError::MalformedToken)?;
    let nbf = numeric_date(claims, "nbf")?;
    let iat = numeric_date(claims, "iat")?;
    let starts = nbf.into_iter().chain(iat).fold(f64::NEG_INFINITY, f64::max);
    let validity = Validity { from: starts - leeway, until: exp + leeway };
    validity.check(now)?;

    if let Some(issuer) = &policy.issuer
        && claims.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
    {
        return Err(TokenError::InvalidTokenClaims);
    }
    if let Some(audience) = &policy.audience
        && !names_audience(claims.get("aud"), audience)
    {
        return Err(TokenError::InvalidTokenClaims);
    }
    if !is_access_token(jws) {
        return Err(TokenError::InvalidTokenClaims);
    }

    let user_id = user_id(claims, issuer)?;
    let session_id = claims.get("sid").and_then(Value::as_str).map(str::to_owned);
    Ok(Verified { identity: Identity { user_id, session_id }, validity, source })
}

/// `Ok(None)` when absent; a present value that is not a finite number is malformed.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(TokenError::MalformedToken),
        Some(_) => Err(TokenError::MalformedToken),
    }
}

fn names_audience(aud: Option<&Value>, expected: &str) -> bool {
    match aud {
        Some(Value::String(aud)) => aud == expected,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(expected)),
        _ => false,
    }
}

/// Better Auth signs other JWTs with the same secret; none of them may open the task API.
fn is_access_token(jws: &UnverifiedJws<'_>) -> bool {
    let claims = &jws.claims;
    let typ_ok = jws
        .typ
        .as_deref()
        .is_none_or(|typ| typ.eq_ignore_ascii_case("JWT") || typ.eq_ignore_ascii_case("at+jwt"));
    let has = |name: &str| claims.contains_key(name);
    // E-mail verification tokens: `{email, updateTo}` and no subject.
    let email_verification = has("updateTo") || (has("email") && !has("sub") && !has("uid"));
    // Cookie-cache tokens carry the whole session; OIDC ID tokens carry nonce/hash claims.
    let session_cache = has("session");
    let id_token = has("nonce") || has("at_hash") || has("c_hash");
    let declared_other = claims
        .get("token_type")
        .or_else(|| claims.get("token_use"))
        .is_some_and(|t| t.as_str() != Some("access"));
    typ_ok && !email_verification && !session_cache && !id_token && !declared_other
}

fn user_id(claims: &Map<String, Value>, issuer: Issuer) -> Result<UserId, TokenError> {
    let as_id = |name: &str| match claims.get(name) {
        None => Ok(None),
        Some(Value::String(raw)) => {
            UserId::new(issuer.clone(), raw).map(Some).ok_or(TokenError::MissingUidClaim)
        }
        Some(_) => Err(TokenError::MissingUidClaim),
    };
    match (as_id("sub")?, as_id("uid")?) {
        (Some(sub), Some(uid)) if sub != uid => Err(TokenError::MissingUidClaim),
        (Some(id), _) | (None, Some(id)) => Ok(id),
        (None, None) => Err(TokenError::MissingUidClaim),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &[u8] = b"a-unit-test-secret-of-32-bytes-or-more";

    fn verifier() -> TokenVerifier {
        TokenVerifier::new(Some(TrustedKey::hs256(SECRET)), ClaimPolicy::default(), Vec::new())
    }

    fn token(claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let verifier = verifier();
        let t = token(json!({ "sub": "u", "iat": 1000, "exp": 2000 }));
        assert_eq!(block_on(verifier.verify(&t, 1500)).unwrap().user_id.subject(), "u");
        assert!(verifier.verified.get(&t).is_some(), "remembered");
        assert!(block_on(verifier.verify(&t, 1999)).is_ok());
        // `exp` is exclusive: the second it names is already too late.
        assert_eq!(block_on(verifier.verify(&t, 2000)).unwrap_err(), TokenError::TokenExpired);
        assert_eq!(block_on(verifier.verify(&t, 2001)).unwrap_err(), TokenError::TokenExpired);
        assert_eq!(block_on(verifier.verify(&t, 999)).unwrap_err(), TokenError::TokenExpired);
    }

    #[test]
    fn the_first_verification_and_the_remembered_token_agree_that_exp_is_exclusive() {
        let first = verifier();
        let t = token(json!({ "sub": "u", "exp": 2000 }));
        assert_eq!(block_on(first.verify(&t, 2000)).unwrap_err(), TokenError::TokenExpired);
        assert!(first.verified.get(&t).is_none(), "an expired token is not remembered");
        let remembered = verifier();
        assert!(block_on(remembered.verify(&t, 1999)).is_ok());
        assert!(remembered.verified.get(&t).is_some(), "remembered");
        assert_eq!(block_on(remembered.verify(&t, 2000)).unwrap_err(), TokenError::TokenExpired);
    }

    #[test]
    fn with_leeway_a_token_expires_at_exp_plus_leeway_on_both_paths() {
        let policy = ClaimPolicy { leeway_seconds: 10, ..ClaimPolicy::default() };
        let with_leeway =
            || TokenVerifier::new(Some(TrustedKey::hs256(SECRET)), policy.clone(), Vec::new());
        let t = token(json!({ "sub": "u", "exp": 2000 }));
        let first = with_leeway();
        assert_eq!(block_on(first.verify(&t, 2010)).unwrap_err(), TokenError::TokenExpired);
        let remembered = with_leeway();
        assert!(block_on(remembered.verify(&t, 2009)).is_ok());
        assert!(remembered.verified.get(&t).is_some(), "remembered");
        assert_eq!(block_on(remembered.verify(&t, 2010)).unwrap_err(), TokenError::TokenExpired);
    }

    #[test]
    fn only_verified_tokens_are_remembered() {
        let verifier = verifier();
        let forged = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &json!({ "sub": "u", "exp": 2000 }),
            &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-another"),
        )
        .unwrap();
        assert_eq!(
            block_on(verifier.verify(&forged, 1500)).unwrap_err(),
            TokenError::InvalidTokenSignature
        );
        assert!(verifier.verified.get(&forged).is_none());
        let expired = token(json!({ "sub": "u", "exp": 1000 }));
        assert!(block_on(verifier.verify(&expired, 1500)).is_err());
        assert!(verifier.verified.get(&expired).is_none());
    }

    #[test]
    fn nbf_and_iat_bound_the_validity_with_leeway() {
        let policy = ClaimPolicy { leeway_seconds: 10, ..ClaimPolicy::default() };
        let verifier = TokenVerifier::new(Some(TrustedKey::hs256(SECRET)), policy, Vec::new());
        let t = token(json!({ "sub": "u", "nbf": 1000, "iat": 900, "exp": 2000 }));
        assert_eq!(block_on(verifier.verify(&t, 989)).unwrap_err(), TokenError::TokenExpired);
        assert!(block_on(verifier.verify(&t, 990)).is_ok());
        assert!(block_on(verifier.verify(&t, 2009)).is_ok());
        assert_eq!(block_on(verifier.verify(&t, 2010)).unwrap_err(), TokenError::TokenExpired);
    }
}
