//! Test signing keys for every asymmetric algorithm, their JWKs, and a JWKS server on port 0.
//! Shared by the integration tests and the verification benchmark (`benches/verify.rs`).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const ISSUER: &str = "http://127.0.0.1:3005";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    EdDsa,
    Es256,
    Es512,
    Rs256,
    Ps256,
}

pub const ALL: [Alg; 5] = [Alg::EdDsa, Alg::Es256, Alg::Es512, Alg::Rs256, Alg::Ps256];

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::EdDsa => "EdDSA",
            Alg::Es256 => "ES256",
            Alg::Es512 => "ES512",
            Alg::Rs256 => "RS256",
            Alg::Ps256 => "PS256",
        }
    }
}

enum Private {
    Jwt(Algorithm, EncodingKey),
    P521(p521::ecdsa::SigningKey),
}

/// A private key with its kid and public JWK.
pub struct TestKey {
    pub alg: Alg,
    pub kid: String,
    pub jwk: Value,
    /// Raw public key bytes, for key-confusion attacks.
    pub public_bytes: Vec<u8>,
    private: Private,
}

fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TestKey {
    pub fn generate(alg: Alg, kid: &str) -> Self {
        use rand::rngs::OsRng;
        let (private, mut jwk, public_bytes) = match alg {
            Alg::EdDsa => {
                use ed25519_dalek::pkcs8::EncodePrivateKey;
                let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
                let der = key.to_pkcs8_der().unwrap();
                let public = key.verifying_key().to_bytes().to_vec();
                let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(&public) });
                (
                    Private::Jwt(Algorithm::EdDSA, EncodingKey::from_ed_der(der.as_bytes())),
                    jwk,
                    public,
                )
            }
            Alg::Es256 => {
                use p256::pkcs8::EncodePrivateKey;
                let key = p256::ecdsa::SigningKey::random(&mut OsRng);
                let der = key.to_pkcs8_der().unwrap();
                let point = key.verifying_key().to_encoded_point(false);
                let jwk = json!({ "kty": "EC", "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()) });
                (
                    Private::Jwt(Algorithm::ES256, EncodingKey::from_ec_der(der.as_bytes())),
                    jwk,
                    point.as_bytes().to_vec(),
                )
            }
            Alg::Es512 => {
                let key = p521::ecdsa::SigningKey::random(&mut OsRng);
                let point = p521::ecdsa::VerifyingKey::from(&key).to_encoded_point(false);
                let jwk = json!({ "kty": "EC", "crv": "P-521", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()) });
                let public = point.as_bytes().to_vec();
                (Private::P521(key), jwk, public)
            }
            Alg::Rs256 | Alg::Ps256 => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                use rsa::traits::PublicKeyParts;
                let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
                let der = key.to_pkcs1_der().unwrap();
                let n = key.n().to_bytes_be();
                let jwk = json!({ "kty": "RSA", "n": b64(&n), "e": b64(&key.e().to_bytes_be()) });
                let algorithm = if alg == Alg::Rs256 { Algorithm::RS256 } else { Algorithm::PS256 };
                (Private::Jwt(algorithm, EncodingKey::from_rsa_der(der.as_bytes())), jwk, n)
            }
        };
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(alg.name());
        Self { alg, kid: kid.to_owned(), jwk, public_bytes, private }
    }

    /// A token with this key's alg and kid (plus `extra_header`) over `claims`.
    pub fn sign_with_header(&self, extra_header: Value, claims: &Value) -> String {
        let mut header = json!({ "alg": self.alg.name(), "kid": self.kid });
        if let (Some(header), Some(extra)) = (header.as_object_mut(), extra_header.as_object()) {
            for (name, value) in extra {
                if value.is_null() {
                    header.remove(name);
                } else {
                    header.insert(name.clone(), value.clone());
                }
            }
        }
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = match &self.private {
            Private::Jwt(algorithm, key) => {
                jsonwebtoken::crypto::sign(input.as_bytes(), key, *algorithm).unwrap()
            }
            Private::P521(key) => {
                use p521::ecdsa::signature::Signer;
                let signature: p521::ecdsa::Signature = key.sign(input.as_bytes());
                b64(&signature.to_bytes())
            }
        };
        format!("{input}.{signature}")
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(json!({}), claims)
    }

    /// An access token as Better Auth's JWT plugin issues it.
    pub fn token_for(&self, user: &str) -> String {
        self.sign(&access_claims(user))
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn access_claims(user: &str) -> Value {
    json!({
        "iat": now(), "name": "Test", "email": "t@example.com", "emailVerified": false,
        "id": user, "sub": user, "exp": now() + 900, "iss": ISSUER, "aud": ISSUER
    })
}

/// A JWKS endpoint whose keys, availability and fetch count a test controls.
#[derive(Clone)]
pub struct JwksServer {
    pub url: String,
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

#[derive(Clone)]
struct Shared {
    keys: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

async fn serve_jwks(State(shared): State<Shared>) -> axum::response::Response {
    shared.fetches.fetch_add(1, Ordering::SeqCst);
    if shared.down.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let keys = shared.keys.lock().unwrap().clone();
    axum::Json(json!({ "keys": keys })).into_response()
}

/// `/redirect?to=<url>` answers 307 to `<url>`.
async fn redirect(
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    let to = query.get("to").cloned().unwrap_or_default();
    (StatusCode::TEMPORARY_REDIRECT, [(axum::http::header::LOCATION, to)]).into_response()
}

impl JwksServer {
    /// A URL on this server that redirects to `to`.
    pub fn redirect_url(&self, to: &str) -> String {
        let base = self.url.trim_end_matches("/api/auth/jwks");
        format!("{base}/redirect?to={}", percent_encode(to))
    }

    pub async fn start(keys: &[&TestKey]) -> Self {
        let shared = Shared {
            keys: Arc::new(Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect())),
            fetches: Arc::new(AtomicUsize::new(0)),
            down: Arc::new(AtomicBool::new(false)),
        };
        let router = Router::new()
            .route("/api/auth/jwks", get(serve_jwks))
            .route("/redirect", get(redirect))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/auth/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, keys: shared.keys, fetches: shared.fetches, down: shared.down }
    }

    pub fn publish(&self, keys: &[&TestKey]) {
        *self.keys.lock().unwrap() = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    pub fn publish_raw(&self, jwks: Vec<Value>) {
        *self.keys.lock().unwrap() = jwks;
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}
