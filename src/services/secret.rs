//! The server secret (cookie signatures, the signing keys' encryption): `BETTER_AUTH_SECRET`
//! when set; on SQLite without it, a secret made once and kept beside the database file, readable
//! by its owner only, so a bare start on a fresh machine serves everything.

use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The shortest `BETTER_AUTH_SECRET` accepted: 256 bits, as HS256 wants (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "BETTER_AUTH_SECRET is required with PostgreSQL, where every instance must share one \
         secret; generate one with `openssl rand -base64 32`"
    )]
    RequiredWithPostgres,
    #[error("cannot keep the generated secret at {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error(
        "{0} holds a secret shorter than {MIN_SECRET_BYTES} bytes; delete it to have a new one made \
         (existing sessions end), or set BETTER_AUTH_SECRET"
    )]
    StoredTooShort(PathBuf),
}

/// Where the generated secret of the SQLite database at `db_path` is kept.
pub fn path_beside(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".secret");
    PathBuf::from(name)
}

/// The configured secret, else (SQLite only: `db_path` is `Some`) the one kept beside the
/// database, made on first use.
pub fn resolve(
    configured: Option<&SecretString>,
    db_path: Option<&Path>,
) -> Result<SecretString, SecretError> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    let path = path_beside(db_path.ok_or(SecretError::RequiredWithPostgres)?);
    let secret = match std::fs::read_to_string(&path) {
        Ok(stored) => stored.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path)?,
        Err(e) => return Err(SecretError::Io(path, e)),
    };
    if secret.len() < MIN_SECRET_BYTES {
        return Err(SecretError::StoredTooShort(path));
    }
    Ok(secret.into())
}

/// Writes a new 256-bit secret, created with mode 0600 so it is never readable by others, not
/// even for a moment; a concurrent creator's file wins.
fn create(path: &Path) -> Result<String, SecretError> {
    // On a fresh machine the database's folder does not exist yet: the secret comes first.
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| SecretError::Io(dir.to_owned(), e))?;
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| SecretError::Io(path.to_owned(), e))?;
            tracing::info!(path = %path.display(), "made a server secret");
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read_to_string(path)
            .map(|stored| stored.trim().to_owned())
            .map_err(|e| SecretError::Io(path.to_owned(), e)),
        Err(e) => Err(SecretError::Io(path.to_owned(), e)),
    }
}

/// For callers that need the bytes (keys derived from the secret).
pub fn bytes(secret: &SecretString) -> &[u8] {
    secret.expose_secret().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_made_once_beside_the_database_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        // A folder that does not exist yet, as `data/` on a fresh machine.
        let db = dir.path().join("data/taskgate.db");
        let first = resolve(None, Some(&db)).unwrap();
        let second = resolve(None, Some(&db)).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().len() >= MIN_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path_beside(&db)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn postgres_needs_a_configured_secret() {
        assert!(matches!(resolve(None, None), Err(SecretError::RequiredWithPostgres)));
        let configured = SecretString::from("x".repeat(40));
        assert_eq!(resolve(Some(&configured), None).unwrap().expose_secret(), "x".repeat(40));
    }

    #[test]
    fn a_short_stored_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("taskgate.db");
        std::fs::write(path_beside(&db), "short").unwrap();
        assert!(matches!(resolve(None, Some(&db)), Err(SecretError::StoredTooShort(_))));
    }
}
