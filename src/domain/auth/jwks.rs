//! Keys published by a JWKS issuer (such as Better Auth's `/api/auth/jwks`): fetched at start,
//! refreshed periodically, refetched at most once per cool-down when a token names an unknown `kid`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::identity::ClaimPolicy;
use crate::ground::redact::redacted_url;

/// A JWKS larger than this is refused: real key sets are a few KiB.
const MAX_JWKS_BYTES: usize = 256 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// RSA keys shorter than this are not trusted (RFC 7518 §3.3, NIST SP 800-57).
const MIN_RSA_BITS: usize = 2048;

/// The asymmetric algorithms Better Auth can sign with; each key verifies exactly one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlgorithm {
    EdDsa,
    Es256,
    Es512,
    Rs256,
    Ps256,
}

impl JwsAlgorithm {
    /// Exact, case-sensitive names (RFC 7518): `none`, `eddsa` and the like match nothing.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "EdDSA" => Self::EdDsa,
            "ES256" => Self::Es256,
            "ES512" => Self::Es512,
            "RS256" => Self::Rs256,
            "PS256" => Self::Ps256,
            _ => return None,
        })
    }
}

/// A public key bound to its algorithm.
pub enum PublicKey {
    /// Verified by jsonwebtoken.
    Jwt { algorithm: Algorithm, key: DecodingKey },
    /// jsonwebtoken has no ES512; the RustCrypto P-521 implementation verifies it.
    Es512(Box<p521::ecdsa::VerifyingKey>),
}

impl PublicKey {
    pub fn algorithm(&self) -> JwsAlgorithm {
        match self {
            Self::Jwt { algorithm: Algorithm::EdDSA, .. } => JwsAlgorithm::EdDsa,
            Self::Jwt { algorithm: Algorithm::ES256, .. } => JwsAlgorithm::Es256,
            Self::Jwt { algorithm: Algorithm::PS256, .. } => JwsAlgorithm::Ps256,
            Self::Jwt { .. } => JwsAlgorithm::Rs256,
            Self::Es512(_) => JwsAlgorithm::Es512,
        }
    }

    /// `signature` is the token's third segment, still base64url-encoded.
    pub fn verifies(&self, signing_input: &[u8], signature: &str) -> bool {
        match self {
            Self::Jwt { algorithm, key } => {
                jsonwebtoken::crypto::verify(signature, signing_input, key, *algorithm)
                    .unwrap_or(false)
            }
            Self::Es512(key) => {
                use p521::ecdsa::signature::Verifier;
                let Ok(raw) = URL_SAFE_NO_PAD.decode(signature) else {
                    return false;
                };
                let Ok(signature) = p521::ecdsa::Signature::from_slice(&raw) else {
                    return false;
                };
                key.verify(signing_input, &signature).is_ok()
            }
        }
    }
}

/// One key of a JWKS, as published.
#[derive(Debug, Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

#[derive(Debug, Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

/// A usable key of an issuer.
pub struct IssuerKey {
    pub kid: Option<String>,
    pub key: PublicKey,
}

fn decoded_len(field: &str) -> Option<usize> {
    URL_SAFE_NO_PAD.decode(field).ok().map(|bytes| bytes.len())
}

/// Turns one published key into a verifier, or says why it is skipped.
fn parse_jwk(jwk: Jwk) -> Result<IssuerKey, String> {
    if jwk.usage.as_deref().is_some_and(|usage| usage != "sig") {
        return Err("not a signing key".into());
    }
    let field = |value: &Option<String>, name: &str| {
        value.clone().ok_or_else(|| format!("{} key without `{name}`", jwk.kty))
    };
    let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("OKP", Some("Ed25519")) => {
            let x = field(&jwk.x, "x")?;
            if decoded_len(&x) != Some(32) {
                return Err("Ed25519 key of the wrong length".into());
            }
            let key = DecodingKey::from_ed_components(&x).map_err(|e| e.to_string())?;
            PublicKey::Jwt { algorithm: Algorithm::EdDSA, key }
        }
        ("EC", Some("P-256")) => {
            let (x, y) = (field(&jwk.x, "x")?, field(&jwk.y, "y")?);
            if decoded_len(&x) != Some(32) || decoded_len(&y) != Some(32) {
                return Err("P-256 key of the wrong length".into());
            }
            let key = DecodingKey::from_ec_components(&x, &y).map_err(|e| e.to_string())?;
            PublicKey::Jwt { algorithm: Algorithm::ES256, key }
        }
        ("EC", Some("P-521")) => {
            let decode = |v: &str| URL_SAFE_NO_PAD.decode(v).map_err(|_| "bad base64".to_owned());
            let (x, y) = (decode(&field(&jwk.x, "x")?)?, decode(&field(&jwk.y, "y")?)?);
            if x.len() != 66 || y.len() != 66 {
                return Err("P-521 key of the wrong length".into());
            }
            let mut sec1 = Vec::with_capacity(133);
            sec1.push(0x04);
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                .map_err(|_| "not a P-521 point")?;
            PublicKey::Es512(Box::new(key))
        }
        ("RSA", _) => {
            let (n, e) = (field(&jwk.n, "n")?, field(&jwk.e, "e")?);
            let modulus = URL_SAFE_NO_PAD.decode(&n).map_err(|_| "bad base64 in `n`")?;
            let leading_zeros = modulus.iter().take_while(|b| **b == 0).count();
            if (modulus.len() - leading_zeros) * 8 < MIN_RSA_BITS {
                return Err(format!("RSA key shorter than {MIN_RSA_BITS} bits"));
            }
            // An RSA key could serve either padding; the publisher must say which one it signs with.
            let algorithm = match jwk.alg.as_deref() {
                Some("RS256") => Algorithm::RS256,
                Some("PS256") => Algorithm::PS256,
                _ => return Err("RSA key without `alg` RS256 or PS256".into()),
            };
            let key = DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?;
            PublicKey::Jwt { algorithm, key }
        }
        (kty, crv) => return Err(format!("unsupported key type {kty} {}", crv.unwrap_or(""))),
    };
    // A published `alg` must agree with the key; a key never verifies another algorithm.
    if let Some(alg) = jwk.alg.as_deref()
        && JwsAlgorithm::from_name(alg) != Some(key.algorithm())
    {
        return Err(format!("`alg` {alg} does not fit the key"));
    }
    Ok(IssuerKey { kid: jwk.kid, key })
}

/// Parses a JWKS document, keeping the keys we can use.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<IssuerKey>, String> {
    let set: JwkSet = serde_json::from_slice(body).map_err(|_| "not a JWKS document".to_owned())?;
    let mut keys = Vec::new();
    for value in set.keys {
        let parsed =
            serde_json::from_value::<Jwk>(value).map_err(|e| e.to_string()).and_then(parse_jwk);
        match parsed {
            Ok(key) => keys.push(key),
            Err(reason) => tracing::warn!(%reason, "skipping a JWKS key"),
        }
    }
    Ok(keys)
}

/// Configuration of one issuer whose keys come from a JWKS URL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwksIssuerConfig {
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
}

/// What looking a key up found.
pub enum Lookup<'a> {
    Found(&'a PublicKey),
    /// The `kid` names a key of another algorithm, or no `kid` was sent while several keys exist.
    Refused,
    /// No key with this `kid`: worth one refetch.
    Unknown,
}

/// An issuer, its current keys, and the bookkeeping that bounds how often we fetch.
pub struct JwksIssuer {
    url: String,
    pub policy: ClaimPolicy,
    keys: RwLock<Arc<Vec<IssuerKey>>>,
    /// When the last refetch for an unknown `kid` started. The lock also serializes all fetches,
    /// so a burst of unknown `kid`s causes a single request.
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
    cooldown: Duration,
    client: reqwest::Client,
    /// The JWKS document the current keys came from, to tell a real change from a refresh.
    published: Mutex<Vec<u8>>,
    /// Bumped after every change of keys; what was verified under an older generation is
    /// verified again.
    generation: AtomicU64,
}

impl JwksIssuer {
    pub fn new(
        config: &JwksIssuerConfig,
        leeway_seconds: u64,
        cooldown: Duration,
    ) -> Result<Self, String> {
        crate::ground::tls::install_tls_provider();
        let shown = redacted_url(&config.jwks_url);
        let origin = reqwest::Url::parse(&config.jwks_url).map_err(|e| format!("{shown}: {e}"))?;
        if !matches!(origin.scheme(), "https" | "http") {
            return Err(format!("{shown}: the JWKS URL must be http(s)"));
        }
        // Redirects are followed only within the same scheme, host and port.
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let same_origin = attempt.url().origin() == origin.origin();
            if same_origin && attempt.previous().len() < 3 {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(policy)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            url: config.jwks_url.clone(),
            policy: ClaimPolicy {
                issuer: Some(config.issuer.clone()),
                audience: Some(config.audience.clone()),
                leeway_seconds,
            },
            keys: RwLock::new(Arc::new(Vec::new())),
            last_refetch: tokio::sync::Mutex::new(None),
            cooldown,
            client,
            published: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
        })
    }

    pub fn issuer(&self) -> &str {
        self.policy.issuer.as_deref().unwrap_or_default()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn keys(&self) -> Arc<Vec<IssuerKey>> {
        self.keys.read().map_or_else(|poisoned| poisoned.into_inner().clone(), |keys| keys.clone())
    }

    /// Finds the key for a token's `kid` and algorithm among `keys`.
    pub fn lookup<'a>(keys: &'a [IssuerKey], kid: Option<&str>, alg: JwsAlgorithm) -> Lookup<'a> {
        match kid {
            Some(kid) => match keys.iter().find(|key| key.kid.as_deref() == Some(kid)) {
                Some(key) if key.key.algorithm() == alg => Lookup::Found(&key.key),
                Some(_) => Lookup::Refused,
                None => Lookup::Unknown,
            },
            None => match keys {
                [only] if only.key.algorithm() == alg => Lookup::Found(&only.key),
                [] => Lookup::Unknown,
                _ => Lookup::Refused,
            },
        }
    }

    /// Refetches for an unknown `kid`, unless such a refetch started within the cool-down (if one
    /// is under way, this waits for it). Returns whether new keys were installed.
    pub async fn refresh_if_allowed(&self) -> bool {
        let mut last_refetch = self.last_refetch.lock().await;
        if last_refetch.is_some_and(|at| at.elapsed() < self.cooldown) {
            return false;
        }
        *last_refetch = Some(Instant::now());
        self.fetch().await
    }

    /// Fetches regardless of the cool-down: at start and for the periodic refresh.
    pub async fn refresh(&self) -> bool {
        let _serialized = self.last_refetch.lock().await;
        self.fetch().await
    }

    async fn fetch(&self) -> bool {
        let fetched =
            self.download().await.and_then(|body| parse_jwks(&body).map(|keys| (body, keys)));
        match fetched {
            Ok((body, keys)) => {
                let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
                if *published == body {
                    return false;
                }
                tracing::info!(issuer = self.issuer(), keys = keys.len(), "JWKS keys installed");
                match self.keys.write() {
                    Ok(mut current) => *current = Arc::new(keys),
                    Err(poisoned) => *poisoned.into_inner() = Arc::new(keys),
                }
                // After the keys, so a generation never names keys older than it.
                self.generation.fetch_add(1, Ordering::SeqCst);
                *published = body;
                true
            }
            Err(reason) => {
                // The keys we have keep working while the issuer is unreachable.
                let url = redacted_url(&self.url);
                tracing::warn!(issuer = self.issuer(), %url, %reason, "JWKS fetch failed");
                false
            }
        }
    }

    async fn download(&self) -> Result<Vec<u8>, String> {
        let mut response = self.client.get(&self.url).send().await.map_err(describe)?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        if response.content_length().is_some_and(|len| len > MAX_JWKS_BYTES as u64) {
            return Err("JWKS too large".into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err("JWKS too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A fetch error without its URL, which may hold credentials or a query string.
fn describe(error: reqwest::Error) -> String {
    error.without_url().to_string()
}
