//! The service's own signing keys and the access tokens it mints for the task API: Ed25519 key
//! pairs made at first start and kept in the database, the private half sealed (ChaCha20-Poly1305)
//! under a key derived from the server secret; JWTs shaped as Better Auth's JWT plugin makes them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Instant;
use time::OffsetDateTime;

use crate::domain::accounts::{Session, User};
use crate::domain::auth::OwnKeys;
use crate::domain::auth::jwks::{IssuerKey, PublicKey};
use crate::store::StoreError;
use crate::store::accounts::KeyStore;

/// The public keys the service's access tokens are signed with (RFC 7517), as
/// `GET /api/auth/jwks` answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037), the fields in Better Auth's order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Jwk {
    #[schema(example = "EdDSA")]
    pub alg: &'static str,
    #[schema(example = "Ed25519")]
    pub crv: &'static str,
    /// The public key, base64url without padding.
    pub x: String,
    #[schema(example = "OKP")]
    pub kty: &'static str,
    pub kid: String,
}

/// How long a minted access token lives (Better Auth's default).
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
const NONCE_BYTES: usize = 12;

/// How the service signs the access tokens of its own accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenAlg {
    /// Ed25519, with the stored key pair published at /api/auth/jwks.
    #[value(name = "EdDSA")]
    EdDsa,
    /// HMAC-SHA256 under the server secret, for services that verify with the shared secret.
    #[value(name = "HS256")]
    Hs256,
}

pub use crate::store::accounts::StoredKey;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or store the signing keys: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the signing key {0} in the database cannot be opened with this server secret: start \
         with the secret it was made under (BETTER_AUTH_SECRET, or the generated secret file)"
    )]
    WrongSecret(String),
    #[error("a stored signing key is damaged: {0}")]
    Damaged(String),
    #[error("cannot sign a token: {0}")]
    Sign(String),
}

/// The key that seals private keys: HMAC-SHA256 of a fixed label under the server secret, so the
/// secret itself never keys two primitives.
fn sealing_key(secret: &SecretString) -> ChaCha20Poly1305 {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(b"taskgate signing key sealing v1");
    ChaCha20Poly1305::new(&mac.finalize().into_bytes())
}

fn seal(secret: &SecretString, kid: &str, seed: &[u8; 32]) -> Result<Vec<u8>, KeyError> {
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = sealing_key(secret)
        .encrypt(&Nonce::from(nonce), Payload { msg: seed, aad: kid.as_bytes() })
        .map_err(|_| KeyError::Sign("sealing failed".into()))?;
    Ok([nonce.as_slice(), &sealed].concat())
}

fn open(secret: &SecretString, key: &StoredKey) -> Result<SigningKey, KeyError> {
    if key.sealed_private_key.len() <= NONCE_BYTES {
        return Err(KeyError::Damaged(key.kid.clone()));
    }
    let (nonce, sealed) = key.sealed_private_key.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] =
        nonce.try_into().map_err(|_| KeyError::Damaged(key.kid.clone()))?;
    let seed = sealing_key(secret)
        .decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad: key.kid.as_bytes() })
        .map_err(|_| KeyError::WrongSecret(key.kid.clone()))?;
    let seed: [u8; 32] = seed.try_into().map_err(|_| KeyError::Damaged(key.kid.clone()))?;
    let signing = SigningKey::from_bytes(&seed);
    if signing.verifying_key().as_bytes().as_slice() != key.public_key.as_slice() {
        return Err(KeyError::Damaged(key.kid.clone()));
    }
    Ok(signing)
}

/// A new key pair, sealed for storage.
pub fn generate(secret: &SecretString) -> Result<StoredKey, KeyError> {
    let signing = SigningKey::generate(&mut rand::rngs::OsRng);
    let kid = crate::domain::accounts::random_id();
    Ok(StoredKey {
        sealed_private_key: seal(secret, &kid, signing.as_bytes())?,
        public_key: signing.verifying_key().as_bytes().to_vec(),
        kid,
        created_at: crate::domain::accounts::now(),
    })
}

/// How long a replaced key stays published: its last tokens' lifetime, the largest leeway a
/// verifier may allow, and the time every instance takes to load the key that replaced it.
pub const RETIRED_KEY_KEPT: time::Duration = time::Duration::seconds(
    ACCESS_TOKEN_SECONDS
        + crate::domain::auth::MAX_LEEWAY_SECONDS as i64
        + RELOAD_EVERY.as_secs() as i64,
);
/// The longest time between two reads of the keys by a running instance, so a rotation reaches
/// it (`TASKGATE_KEYS_RELOAD` may only shorten it).
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(30);
/// Least time between two reloads caused by tokens with a kid this instance does not know.
const RELOAD_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(1);

/// The keys as last loaded: the newest signs, the published ones verify.
struct KeyRing {
    kid: String,
    key: EncodingKey,
    /// (kid, raw public key), oldest first.
    published: Vec<(String, Vec<u8>)>,
    verifying: Arc<Vec<IssuerKey>>,
}

impl KeyRing {
    /// The newest key signs; a key replaced more than [`RETIRED_KEY_KEPT`] before `now` is no
    /// longer published (its tokens have expired), even before `keys rotate` deletes it.
    fn from_stored(
        keys: &[StoredKey],
        secret: &SecretString,
        now: OffsetDateTime,
    ) -> Result<Self, KeyError> {
        let newest = keys.last().ok_or_else(|| KeyError::Damaged("no signing key".into()))?;
        // Opened whatever the algorithm, so a key the secret cannot open stops the start either way.
        let signing = open(secret, newest)?;
        let der = signing.to_pkcs8_der().map_err(|e| KeyError::Sign(e.to_string()))?;
        let published: Vec<(String, Vec<u8>)> = keys
            .iter()
            .zip(keys.iter().skip(1).map(Some).chain([None]))
            .filter(|(_, newer)| newer.is_none_or(|n| n.created_at + RETIRED_KEY_KEPT > now))
            .map(|(key, _)| (key.kid.clone(), key.public_key.clone()))
            .collect();
        let verifying = published
            .iter()
            .filter_map(|(kid, public)| {
                let key = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(public)).ok()?;
                Some(IssuerKey {
                    kid: Some(kid.clone()),
                    key: PublicKey::Jwt { algorithm: Algorithm::EdDSA, key },
                })
            })
            .collect();
        Ok(Self {
            kid: newest.kid.clone(),
            key: EncodingKey::from_ed_der(der.as_bytes()),
            published,
            verifying: Arc::new(verifying),
        })
    }
}

/// Mints access tokens with the newest key (or the server secret, with HS256) and publishes
/// every key whose tokens may still be live; reloads the keys so a rotation reaches it.
pub struct Signer {
    issuer: String,
    store: Arc<dyn KeyStore>,
    secret: SecretString,
    /// The server secret's key, when signing HS256: it has no key id and is never published.
    hs256: Option<EncodingKey>,
    ring: RwLock<Arc<KeyRing>>,
    last_reload: Mutex<Instant>,
}

impl Signer {
    /// Loads the stored keys, making the first one if there is none (once, whichever instance
    /// gets there first); `issuer` is the public URL, both `iss` and `aud` of every token.
    ///
    /// With `TokenAlg::Hs256` the key pairs are still made and published: tokens minted with them
    /// before a switch stay verifiable until they expire, and switching back needs no new key.
    pub async fn load(
        store: &Arc<dyn KeyStore>,
        secret: &SecretString,
        issuer: String,
        alg: TokenAlg,
    ) -> Result<Self, KeyError> {
        let keys = store.signing_keys_or_insert(&generate(secret)?).await?;
        let ring = KeyRing::from_stored(&keys, secret, crate::domain::accounts::now())?;
        Ok(Self {
            issuer,
            store: store.clone(),
            secret: secret.clone(),
            hs256: (alg == TokenAlg::Hs256)
                .then(|| EncodingKey::from_secret(secret.expose_secret().as_bytes())),
            ring: RwLock::new(Arc::new(ring)),
            last_reload: Mutex::new(Instant::now()),
        })
    }

    fn ring(&self) -> Arc<KeyRing> {
        self.ring.read().map_or_else(|poisoned| poisoned.into_inner().clone(), |ring| ring.clone())
    }

    /// Reads the keys again, as of `now`.
    pub async fn reload(&self, now: OffsetDateTime) -> Result<(), KeyError> {
        let keys = self.store.signing_keys().await?;
        let ring = Arc::new(KeyRing::from_stored(&keys, &self.secret, now)?);
        match self.ring.write() {
            Ok(mut current) => *current = ring,
            Err(poisoned) => *poisoned.into_inner() = ring,
        }
        Ok(())
    }

    /// Reloads every `every` (at most [`RELOAD_EVERY`]) until the signer is dropped.
    pub fn keep_reloading(signer: Weak<Signer>, every: std::time::Duration) {
        let every = every.clamp(std::time::Duration::from_secs(1), RELOAD_EVERY);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(signer) = signer.upgrade() else { break };
                if let Err(error) = signer.reload(crate::domain::accounts::now()).await {
                    // The keys loaded before keep serving; the next tick tries again.
                    tracing::warn!(%error, "cannot reload the signing keys");
                }
            }
        });
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A 15-minute access token for `user` in `session`, with the claims Better Auth's JWT plugin
    /// sets (the user record, `sub`, `iss` = `aud` = the public URL) and `sid`.
    pub fn mint(&self, user: &User, session: &Session, now: i64) -> Result<String, KeyError> {
        let mut claims = serde_json::to_value(user).map_err(|e| KeyError::Sign(e.to_string()))?;
        if let Value::Object(map) = &mut claims {
            for (name, value) in [
                ("sub", json!(user.id)),
                ("sid", json!(session.id)),
                ("iat", json!(now)),
                ("exp", json!(now + ACCESS_TOKEN_SECONDS)),
                ("iss", json!(self.issuer)),
                ("aud", json!(self.issuer)),
            ] {
                map.insert(name.to_owned(), value);
            }
        }
        let signed = match &self.hs256 {
            // HS256 keeps `"typ":"JWT"`, as the usual shared-secret libraries write it.
            Some(key) => jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, key),
            None => {
                let ring = self.ring();
                // As Better Auth's JWT plugin: no `typ`, and the `kid`.
                let mut header = Header::new(Algorithm::EdDSA);
                header.typ = None;
                header.kid = Some(ring.kid.clone());
                jsonwebtoken::encode(&header, &claims, &ring.key)
            }
        };
        signed.map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// The JWKS document: every published key, as Better Auth publishes them (no `use`).
    pub fn jwks(&self) -> JwkSet {
        let keys = self
            .ring()
            .published
            .iter()
            .map(|(kid, public)| Jwk {
                alg: "EdDSA",
                crv: "Ed25519",
                x: URL_SAFE_NO_PAD.encode(public),
                kty: "OKP",
                kid: kid.clone(),
            })
            .collect();
        JwkSet { keys }
    }
}

#[async_trait::async_trait]
impl OwnKeys for Signer {
    fn keys(&self) -> Arc<Vec<IssuerKey>> {
        self.ring().verifying.clone()
    }

    async fn unknown_kid(&self) {
        // Another instance may sign with a key rotated in since the last reload.
        let due = match self.last_reload.lock() {
            Ok(mut last) if last.elapsed() >= RELOAD_COOLDOWN => {
                *last = Instant::now();
                true
            }
            _ => false,
        };
        if due && let Err(error) = self.reload(crate::domain::accounts::now()).await {
            tracing::warn!(%error, "cannot reload the signing keys");
        }
    }
}

/// `taskgate keys rotate`: adds a new key, which every instance signs with from its next reload
/// on, and deletes the keys whose tokens have all expired. Returns the new key's kid.
pub async fn rotate(store: &Arc<dyn KeyStore>, secret: &SecretString) -> Result<String, KeyError> {
    let mut key = generate(secret)?;
    // Opening the newest key first refuses a secret the stored keys were not made under.
    if let Some(newest) = store.signing_keys().await?.last() {
        open(secret, newest)?;
        // Strictly later, so the new key is the newest even within one millisecond.
        key.created_at = key.created_at.max(newest.created_at + time::Duration::milliseconds(1));
    }
    store.add_signing_key(&key, key.created_at - RETIRED_KEY_KEPT).await?;
    Ok(key.kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[test]
    fn a_sealed_key_opens_only_under_its_secret_and_kid() {
        let right = secret("the-right-secret-of-at-least-32-bytes");
        let key = generate(&right).unwrap();
        assert_eq!(
            open(&right, &key).unwrap().verifying_key().as_bytes().as_slice(),
            key.public_key
        );
        let wrong = secret("the-wrong-secret-of-at-least-32-bytes");
        assert!(matches!(open(&wrong, &key), Err(KeyError::WrongSecret(_))));
        let moved = StoredKey { kid: "another".into(), ..key.clone() };
        assert!(matches!(open(&right, &moved), Err(KeyError::WrongSecret(_))));
        assert!(!key.sealed_private_key.windows(32).any(|w| w == key.public_key.as_slice()));
    }
}
