//! A task's organising fields: its priority and its tags.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Invalid, check_line};

/// How urgent a task is. Ordered: none < low < medium < high.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    #[default]
    None,
    Low,
    Medium,
    High,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::None, Self::Low, Self::Medium, Self::High];

    /// Its rank, as stored: 0 (none) to 3 (high).
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        usize::try_from(rank).ok().and_then(|rank| Self::ALL.get(rank).copied())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|priority| priority.as_str() == raw)
    }
}

pub const MAX_TAGS_PER_TASK: usize = 20;
pub const MAX_TAG_CHARS: usize = 32;
pub const MAX_TAGS_PER_USER: u64 = 1000;

/// A valid tag name as given, and the key it is known by: its Unicode case folding, so "Work",
/// "work" and "WORK" are one tag (and "Straße" is "STRASSE").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagName {
    pub name: String,
    pub key: String,
}

impl TagName {
    /// `field` names the input in an error ("tags[2]", "name", ...).
    pub fn parse(raw: &str, field: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 {
            return Err(Invalid::field(field, "must not be empty"));
        }
        if chars > MAX_TAG_CHARS {
            return Err(Invalid::field(field, "must be at most 32 characters"));
        }
        check_line(name).map_err(|message| Invalid::field(field, message))?;
        Ok(Self { name: name.to_owned(), key: fold(name) })
    }
}

/// Unicode default case folding: how names compare case-insensitively.
pub fn fold(text: &str) -> String {
    caseless::default_case_fold_str(text)
}

/// A task's tags: at most 20 valid names in the order given, a later case-insensitive
/// duplicate dropped.
pub fn parse_tags(raw: &[String]) -> Result<Vec<TagName>, Invalid> {
    if raw.len() > MAX_TAGS_PER_TASK {
        return Err(Invalid::field("tags", "must hold at most 20 tags"));
    }
    let mut problems = Vec::new();
    let mut tags: Vec<TagName> = Vec::with_capacity(raw.len());
    for (n, name) in raw.iter().enumerate() {
        match TagName::parse(name, &format!("tags[{n}]")) {
            Ok(tag) if tags.iter().any(|kept| kept.key == tag.key) => {}
            Ok(tag) => tags.push(tag),
            Err(Invalid(found)) => problems.extend(found),
        }
    }
    match problems.is_empty() {
        true => Ok(tags),
        false => Err(Invalid(problems)),
    }
}

/// A task's tag names with the tag `key` renamed to `target` (or dropped), a later duplicate of
/// the same key dropped (a merge).
pub fn retagged(names: &[String], key: &str, target: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let name = match fold(name) == key {
            true => match target {
                Some(target) => target.to_owned(),
                None => continue,
            },
            false => name.clone(),
        };
        let folded = fold(&name);
        if !out.iter().any(|kept| fold(kept) == folded) {
            out.push(name);
        }
    }
    out
}

/// A tag with how many of the user's tasks carry it, and how many of those are open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TagSummary {
    #[schema(example = "Work")]
    pub name: String,
    #[schema(example = 12)]
    pub tasks: u64,
    #[schema(example = 7)]
    pub open: u64,
}

/// The body of `PATCH /tags/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "name": "Job" }))]
pub struct TagRename {
    /// The new name: 1 to 32 characters. An existing tag's name merges the two.
    pub name: String,
}

impl TagRename {
    pub fn parse(self) -> Result<TagName, Invalid> {
        TagName::parse(&self.name, "name")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(raw: &[&str]) -> Result<Vec<String>, Invalid> {
        let raw: Vec<String> = raw.iter().map(|s| s.to_string()).collect();
        parse_tags(&raw).map(|tags| tags.into_iter().map(|tag| tag.name).collect())
    }

    #[test]
    fn tags_keep_their_order_and_drop_later_case_insensitive_duplicates() {
        assert_eq!(
            names(&[" Work ", "home", "WORK", "Home", "straße", "STRASSE"]).unwrap(),
            ["Work", "home", "straße"]
        );
    }

    #[test]
    fn bad_tags_are_named_by_position() {
        let Invalid(problems) =
            names(&["ok", " ", &"x".repeat(33), "a\u{202E}b", "\u{200B}"]).expect_err("refused");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["tags[1]", "tags[2]", "tags[3]", "tags[4]"]);
        let many: Vec<String> = (0..21).map(|n| n.to_string()).collect();
        assert_eq!(parse_tags(&many).unwrap_err().0[0].field, "tags");
        assert_eq!(names(&["x".repeat(32).as_str()]).unwrap().len(), 1);
    }

    #[test]
    fn a_rename_keeps_the_order_and_a_merge_drops_the_later_duplicate() {
        let names = |raw: &[&str]| raw.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let tags = names(&["home", "Work", "errands"]);
        assert_eq!(retagged(&tags, "work", Some("Job")), names(&["home", "Job", "errands"]));
        assert_eq!(retagged(&tags, "work", Some("Home")), names(&["home", "errands"]));
        assert_eq!(retagged(&tags, "home", Some("errands")), names(&["errands", "Work"]));
        assert_eq!(retagged(&tags, "work", None), names(&["home", "errands"]));
    }

    #[test]
    fn priorities_rank_in_order() {
        assert!(Priority::None < Priority::Low && Priority::Medium < Priority::High);
        for priority in Priority::ALL {
            assert_eq!(Priority::from_rank(priority.rank().into()), Some(priority));
            assert_eq!(Priority::parse(priority.as_str()), Some(priority));
        }
        assert_eq!(Priority::parse("urgent"), None);
        assert_eq!(Priority::from_rank(4), None);
    }
}
