//! Idempotent creation: the `Idempotency-Key` a client names a `POST` with, and the fingerprint
//! that tells a retry of that request from another request reusing its key.
//!
//! The header follows draft-ietf-httpapi-idempotency-key-header: its value is a Structured Field
//! String (`Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`). Bare tokens are accepted
//! too, for clients that leave the quotes out; both forms name the same key.

use sha2::{Digest, Sha256};
use std::fmt;

use crate::domain::lists::ListId;
use crate::domain::tasks::{Invalid, TaskDraft, TaskId};

/// How long a key is remembered: a retry within this window replays the first answer.
pub const KEY_LIFETIME_SECS: i64 = 24 * 60 * 60;
/// The longest key accepted, in characters (all ASCII).
pub const MAX_KEY_CHARS: usize = 255;
/// The header's name, as shown in validation errors.
pub const HEADER: &str = "Idempotency-Key";

/// A validated key: 1 to 255 visible ASCII characters, without the Structured Field quoting.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a header value: a Structured Field String (`"..."`, with `\"` and `\\` escapes), or a
    /// bare token of visible ASCII without quotes, backslashes or commas (a comma would mean
    /// several keys folded into one line).
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim_matches([' ', '\t']);
        let key = match value.strip_prefix('"') {
            Some(quoted) => unquote(quoted),
            None => Some(value.to_owned()).filter(|bare| !bare.contains(['"', '\\', ','])),
        };
        key.filter(|key| {
            (1..=MAX_KEY_CHARS).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(Self)
        .ok_or_else(|| {
            Invalid::field(
                HEADER,
                "must be a quoted string of 1 to 255 visible ASCII characters, such as \"8e03978e-40d5-43e8-bc93-6894a57f9324\"",
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The content of an sf-string whose opening quote is already consumed; `None` unless the closing
/// quote ends the value (parameters after it are not part of this header's definition).
fn unquote(rest: &str) -> Option<String> {
    let mut key = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return chars.as_str().is_empty().then_some(key),
            '\\' => match chars.next()? {
                escaped @ ('"' | '\\') => key.push(escaped),
                _ => return None,
            },
            c => key.push(c),
        }
    }
    None
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys come from clients: escape them so a log line cannot be forged through one.
        write!(f, "IdempotencyKey({:?})", self.0)
    }
}

/// SHA-256 of what a create request asks for, after parsing: JSON white space, field order, a
/// trimmed title's spaces, or an omitted default do not change it; any difference in the task
/// that would be created does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(draft: &TaskDraft) -> Self {
        // Every variable-length field is length-prefixed, so no two drafts encode alike.
        let mut hash = Sha256::new();
        hash.update(b"taskgate create-task v1\0");
        field(&mut hash, draft.title.as_bytes());
        match &draft.description {
            None => hash.update([0]),
            Some(description) => {
                hash.update([1]);
                field(&mut hash, description.as_bytes());
            }
        }
        hash.update([u8::from(draft.completed)]);
        // The organising fields, only when set: a request without them fingerprints as it did
        // before they existed, so keys stored then still replay.
        if draft.priority != Default::default() || !draft.tags.is_empty() || draft.due.is_some() {
            hash.update(b"\0organising v1\0");
            hash.update([draft.priority.rank()]);
            hash.update((draft.tags.len() as u64).to_be_bytes());
            for tag in &draft.tags {
                field(&mut hash, tag.key.as_bytes());
            }
            match &draft.due {
                None => hash.update([0]),
                Some(due) => {
                    hash.update([1]);
                    field(&mut hash, serde_json::to_string(due).unwrap_or_default().as_bytes());
                }
            }
        }
        // Where the task goes, likewise only when set.
        if draft.list_given || draft.parent_id.is_some() {
            hash.update(b"\0placing v1\0");
            hash.update([u8::from(draft.list_given)]);
            for id in [draft.list_id.map(ListId::as_uuid), draft.parent_id.map(TaskId::as_uuid)] {
                match id {
                    None => hash.update([0]),
                    Some(id) => {
                        hash.update([1]);
                        hash.update(id.as_bytes());
                    }
                }
            }
        }
        Self(hash.finalize().into())
    }
}

fn field(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_be_bytes());
    hash.update(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(value: &str) -> Option<String> {
        IdempotencyKey::parse(value).ok().map(|key| key.as_str().to_owned())
    }

    #[test]
    fn the_quoted_and_the_bare_form_name_the_same_key() {
        let uuid = "8e03978e-40d5-43e8-bc93-6894a57f9324";
        assert_eq!(key(&format!("\"{uuid}\"")).as_deref(), Some(uuid));
        assert_eq!(key(uuid).as_deref(), Some(uuid));
        assert_eq!(key(&format!(" \"{uuid}\"\t")).as_deref(), Some(uuid));
    }

    #[test]
    fn quoted_keys_may_escape_quotes_and_backslashes() {
        assert_eq!(key(r#""a\"b\\c""#).as_deref(), Some(r#"a"b\c"#));
        assert_eq!(key(r#""a\nb""#), None, "only \\\" and \\\\ are escapes");
    }

    #[test]
    fn keys_are_1_to_255_visible_ascii_characters() {
        assert_eq!(key(&"k".repeat(255)).map(|k| k.len()), Some(255));
        assert_eq!(key(&format!("\"{}\"", "k".repeat(255))).map(|k| k.len()), Some(255));
        for bad in [
            String::new(),
            "\"\"".to_owned(),
            "k".repeat(256),
            format!("\"{}\"", "k".repeat(256)),
            "\"a b\"".to_owned(),
            "a b".to_owned(),
            "\"é\"".to_owned(),
            "\"a\u{7f}\"".to_owned(),
        ] {
            assert_eq!(key(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn malformed_quoting_and_folded_lists_are_rejected() {
        for bad in
            ["\"abc", "\"abc\";p=1", "\"a\"b\"", "abc\"", "a\\b", "a,b", "\"a\", \"b\"", "\"a\\"]
        {
            assert_eq!(key(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_key_prints_escaped() {
        let key = IdempotencyKey::parse(r#""a\"b""#).unwrap();
        assert_eq!(format!("{key:?}"), r#"IdempotencyKey("a\"b")"#);
    }

    fn draft(title: &str, description: Option<&str>, completed: bool) -> TaskDraft {
        TaskDraft {
            title: title.into(),
            description: description.map(Into::into),
            completed,
            ..Default::default()
        }
    }

    #[test]
    fn the_fingerprint_changes_with_every_field_and_only_with_them() {
        let base = Fingerprint::of(&draft("a", Some("b"), false));
        assert_eq!(base, Fingerprint::of(&draft("a", Some("b"), false)));
        for other in [
            draft("A", Some("b"), false),
            draft("a", Some("B"), false),
            draft("a", None, false),
            draft("a", Some("b"), true),
        ] {
            assert_ne!(base, Fingerprint::of(&other), "{other:?}");
        }
    }

    #[test]
    fn fields_cannot_run_into_each_other() {
        assert_ne!(
            Fingerprint::of(&draft("ab", Some("c"), false)),
            Fingerprint::of(&draft("a", Some("bc"), false))
        );
        assert_ne!(
            Fingerprint::of(&draft("a", None, false)),
            Fingerprint::of(&draft("a", Some(""), false))
        );
    }
}
