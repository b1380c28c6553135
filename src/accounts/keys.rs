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
use time::OffsetDateTime;

use super::{Session, User};
use crate::auth::jwks::{IssuerKey, PublicKey};
use crate::config::TokenAlg;
use crate::store::StoreError;
use crate::store::accounts::DynAccountStore;

/// How long a minted access token lives (Better Auth's default).
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
const NONCE_BYTES: usize = 12;

/// A signing key as the stores keep it: the public key in the clear, the private key sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    /// The raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    /// Nonce, then the ChaCha20-Poly1305 ciphertext of the 32-byte seed, bound to `kid`.
    pub sealed_private_key: Vec<u8>,
    pub created_at: OffsetDateTime,
}

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
    let kid = super::random_id();
    Ok(StoredKey {
        sealed_private_key: seal(secret, &kid, signing.as_bytes())?,
        public_key: signing.verifying_key().as_bytes().to_vec(),
        kid,
        created_at: super::now(),
    })
}

/// Mints access tokens with the newest key (or the server secret, with HS256) and publishes
/// every stored key.
pub struct Signer {
    issuer: String,
    /// `None` when signing HS256: the secret has no key id and is never published.
    kid: Option<String>,
    algorithm: Algorithm,
    key: EncodingKey,
    /// (kid, raw public key), oldest first.
    published: Vec<(String, Vec<u8>)>,
}

impl Signer {
    /// Loads the stored keys, making the first one if there is none (once, whichever instance
    /// gets there first); `issuer` is the public URL, both `iss` and `aud` of every token.
    ///
    /// With `TokenAlg::Hs256` the key pairs are still made and published: tokens minted with them
    /// before a switch stay verifiable until they expire, and switching back needs no new key.
    pub async fn load(
        store: &DynAccountStore,
        secret: &SecretString,
        issuer: String,
        alg: TokenAlg,
    ) -> Result<Self, KeyError> {
        let keys = store.signing_keys_or_insert(&generate(secret)?).await?;
        let newest = keys.last().ok_or_else(|| KeyError::Damaged("no signing key".into()))?;
        // Opened whatever the algorithm, so a key the secret cannot open stops the start either way.
        let signing = open(secret, newest)?;
        let (kid, algorithm, key) = match alg {
            TokenAlg::EdDsa => {
                let der = signing.to_pkcs8_der().map_err(|e| KeyError::Sign(e.to_string()))?;
                (
                    Some(newest.kid.clone()),
                    Algorithm::EdDSA,
                    EncodingKey::from_ed_der(der.as_bytes()),
                )
            }
            TokenAlg::Hs256 => (
                None,
                Algorithm::HS256,
                EncodingKey::from_secret(secret.expose_secret().as_bytes()),
            ),
        };
        Ok(Self {
            issuer,
            kid,
            algorithm,
            key,
            published: keys.into_iter().map(|key| (key.kid, key.public_key)).collect(),
        })
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
        let mut header = Header::new(self.algorithm);
        if self.algorithm == Algorithm::EdDSA {
            // As Better Auth's JWT plugin: no `typ`, and the `kid`. HS256 keeps `"typ":"JWT"`, as
            // the usual shared-secret libraries write it.
            header.typ = None;
            header.kid = self.kid.clone();
        }
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// The JWKS document: every stored key, as Better Auth publishes them (no `use`).
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .published
            .iter()
            .map(|(kid, public)| {
                json!({
                    "alg": "EdDSA",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(public),
                    "kty": "OKP",
                    "kid": kid,
                })
            })
            .collect();
        json!({ "keys": keys })
    }

    /// The keys the task API verifies this service's tokens with.
    pub fn verifying_keys(&self) -> Vec<IssuerKey> {
        self.published
            .iter()
            .filter_map(|(kid, public)| {
                let key = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(public)).ok()?;
                Some(IssuerKey {
                    kid: Some(kid.clone()),
                    key: PublicKey::Jwt { algorithm: Algorithm::EdDSA, key },
                })
            })
            .collect()
    }
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
