//! Passwords: the length rule, the common-password list, and argon2id hashing on blocking threads behind a semaphore, so a
//! storm of sign-ins queues for its share of the cores instead of starving the task API.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Fewer characters than this is `PASSWORD_TOO_SHORT` (Better Auth's default).
pub const MIN_CHARS: usize = 8;
/// More characters than this is `PASSWORD_TOO_LONG` (Better Auth's default).
pub const MAX_CHARS: usize = 128;

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    TooShort,
    TooLong,
    /// On the list of common passwords: among attackers' first guesses.
    Common,
}

/// 19,640 common passwords, lowercased: Royce Williams' list as Django bundles it
/// (`django/contrib/auth/common-passwords.txt.gz`, BSD-3-Clause).
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

fn is_common(password: &str) -> bool {
    static LIST: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
        std::sync::LazyLock::new(|| COMMON_PASSWORDS.lines().collect());
    LIST.contains(password.trim().to_lowercase().as_str())
}

/// A password of an acceptable length: any Unicode, never truncated, never logged.
pub struct Password(SecretString);

impl Password {
    /// A new password: counts characters (Unicode scalar values), not bytes, and refuses the
    /// common ones whatever their case.
    pub fn new(raw: String) -> Result<Self, Rejected> {
        match raw.chars().count() {
            n if n < MIN_CHARS => Err(Rejected::TooShort),
            n if n > MAX_CHARS => Err(Rejected::TooLong),
            _ if is_common(&raw) => Err(Rejected::Common),
            _ => Ok(Self(raw.into())),
        }
    }

    /// Sign-in checks only the upper bound: a short guess is simply wrong, and costs the same.
    pub fn for_sign_in(raw: String) -> Result<Self, Rejected> {
        if raw.chars().count() > MAX_CHARS { Err(Rejected::TooLong) } else { Ok(Self(raw.into())) }
    }
}

/// A hashing failure: the blocking thread died or argon2 refused its input. Never a wrong password.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// argon2id with OWASP's parameters, bound explicitly: m = 19456 KiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    // These constants are valid: Params::new only refuses out-of-range values.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Verified against when the e-mail is unknown, so that case costs what a wrong password costs.
/// The hash of a random password that was thrown away, with `argon2()`'s parameters (a test keeps
/// them equal). A constant rather than a hash made at start: hashing takes 19 MiB, which would
/// be the largest part of the idle process's peak memory.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$hu+tBOJGQT+xV+aG7V8idQ$J8wU6grojAIH1Jt2LHoRKliE0wwDpd2uQ1uApjJh1xI";

/// Hashes and verifies passwords, at most `permits` at a time.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl PasswordHasher {
    /// `permits` of 0 is taken as 1.
    pub fn new(permits: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(permits.max(1))) }
    }

    /// The default concurrency: half the cores (at least one), leaving the rest to the task API.
    pub fn default_permits() -> usize {
        std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
    }

    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let secret = password.0.clone();
        self.on_blocking_thread(move || hash_now(&secret)).await?
    }

    /// Whether `password` matches `stored`; with no stored hash, verifies against the dummy and
    /// answers `false`, taking the same time as a wrong password.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<bool, HashError> {
        let known = stored.is_some();
        let hash: Arc<str> = Arc::from(stored.unwrap_or(DUMMY_HASH));
        let secret = password.0.clone();
        let matches = self.on_blocking_thread(move || verify_now(&secret, &hash)).await?;
        Ok(known && matches)
    }

    async fn on_blocking_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError("the semaphore is closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| HashError(format!("the hashing thread failed: {e}")))
    }
}

fn hash_now(password: &SecretString) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A stored hash that does not parse verifies nothing.
fn verify_now(password: &SecretString, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        argon2().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_counted_in_characters() {
        assert_eq!(Password::new("zq8#Lk2".into()).err(), Some(Rejected::TooShort));
        assert!(Password::new("zq8#Lk2p".into()).is_ok());
        // Eight characters, sixteen bytes.
        assert!(Password::new("éééééééé".into()).is_ok());
        assert!(Password::new("x".repeat(128)).is_ok());
        assert_eq!(Password::new("x".repeat(129)).err(), Some(Rejected::TooLong));
        assert_eq!(Password::for_sign_in("x".repeat(129)).err(), Some(Rejected::TooLong));
        assert!(Password::for_sign_in("password".into()).is_ok(), "sign-in never judges");
        assert!(Password::for_sign_in("x".into()).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        assert!(COMMON_PASSWORDS.lines().count() >= 10_000);
        for common in ["password", "PassWord1", "12345678", "iloveyou", "qwertyuiop"] {
            assert_eq!(Password::new(common.into()).err(), Some(Rejected::Common), "{common}");
        }
        assert!(Password::new("correct horse battery staple".into()).is_ok());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_parameters_bound() {
        let hasher = PasswordHasher::new(1);
        let password = Password::new("correct horse battery".into()).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
        let wrong = Password::new("correct horse battery!".into()).unwrap();
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
        assert!(!hasher.verify(&password, None).await.unwrap(), "no stored hash never matches");
        assert!(!hasher.verify(&password, Some("not a hash")).await.unwrap());
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let fresh = hash_now(&SecretString::from("correct horse battery".to_owned())).unwrap();
        let real = PasswordHash::new(&fresh).unwrap();
        assert_eq!((dummy.algorithm, dummy.version), (real.algorithm, real.version));
        assert_eq!(Params::try_from(&dummy).unwrap(), Params::try_from(&real).unwrap());
        assert_eq!(dummy.salt.map(|s| s.len()), real.salt.map(|s| s.len()));
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert!(!verify_now(&SecretString::from(String::new()), DUMMY_HASH));
    }
}
