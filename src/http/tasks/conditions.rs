//! Conditional requests (RFC 9110, section 13): `If-Match` on writes, `If-None-Match` on reads,
//! against a task's strong `ETag` (its version, quoted) or a list's.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::tasks::Expected;
use crate::http::error::{ApiError, ErrorCode};

/// The entity tags of one conditional header: `*`, or the tags listed (in every occurrence).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tags {
    Any,
    /// Each tag with whether it is weak (`W/"…"`), and its opaque value without quotes.
    Listed(Vec<(bool, String)>),
}

fn parse_tags(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<Tags>, ApiError> {
    let mut listed = Vec::new();
    let mut any = false;
    let malformed =
        || ApiError::invalid_field(name.as_str(), "must be * or entity tags such as \"3\"");
    for value in headers.get_all(&name) {
        let text = value.to_str().map_err(|_| malformed())?;
        for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            if item == "*" {
                any = true;
                continue;
            }
            let (weak, quoted) = match item.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, item),
            };
            let opaque = quoted
                .strip_prefix('"')
                .and_then(|rest| rest.strip_suffix('"'))
                .filter(|opaque| !opaque.contains('"'))
                .ok_or_else(malformed)?;
            listed.push((weak, opaque.to_owned()));
        }
    }
    Ok(match (any, listed.is_empty(), headers.contains_key(&name)) {
        (_, _, false) => None,
        (true, _, _) => Some(Tags::Any),
        (false, true, true) => return Err(malformed()),
        (false, false, true) => Some(Tags::Listed(listed)),
    })
}

/// `If-Match` as the versions a write may apply to. A weak tag never matches (strong
/// comparison), nor does a tag that is not a version of ours.
pub struct IfMatch(pub Expected);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(IfMatch(match parse_tags(&parts.headers, header::IF_MATCH)? {
            None | Some(Tags::Any) => Expected::any(),
            Some(Tags::Listed(tags)) => Expected::one_of(
                tags.into_iter()
                    .filter(|(weak, _)| !weak)
                    .filter_map(|(_, opaque)| opaque.parse().ok())
                    .collect(),
            ),
        }))
    }
}

/// `If-None-Match`: whether a representation with a given `ETag` is what the client has (weak
/// comparison, as RFC 9110 says for this header).
pub struct IfNoneMatch(Option<Tags>);

impl IfNoneMatch {
    pub fn matches(&self, etag: &str) -> bool {
        let opaque = etag.trim_matches('"');
        match &self.0 {
            None => false,
            Some(Tags::Any) => true,
            Some(Tags::Listed(tags)) => tags.iter().any(|(_, tag)| tag == opaque),
        }
    }

    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(IfNoneMatch(parse_tags(&parts.headers, header::IF_NONE_MATCH)?))
    }
}

pub fn etag_value(etag: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(etag).map_err(|e| ApiError::internal(&e))
}

/// 304: what the client has is current.
pub fn not_modified(etag: &str) -> Result<Response, ApiError> {
    Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value(etag)?)]).into_response())
}

/// 412 with the task's current `ETag`, so the client can tell what it is now.
pub fn precondition_failed(current: u64) -> Response {
    let etag = HeaderValue::from(current);
    let quoted = HeaderValue::from_str(&format!("\"{}\"", current)).unwrap_or(etag);
    ([(header::ETAG, quoted)], ApiError::new(ErrorCode::PreconditionFailed)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn if_match(values: &[&str]) -> Result<Expected, ApiError> {
        Ok(match parse_tags(&headers(header::IF_MATCH, values), header::IF_MATCH)? {
            None | Some(Tags::Any) => Expected::any(),
            Some(Tags::Listed(tags)) => Expected::one_of(
                tags.into_iter()
                    .filter(|(weak, _)| !weak)
                    .filter_map(|(_, o)| o.parse().ok())
                    .collect(),
            ),
        })
    }

    #[test]
    fn if_match_admits_the_listed_strong_versions() {
        assert!(if_match(&[]).unwrap().is_any());
        assert!(if_match(&["*"]).unwrap().is_any());
        let listed = if_match(&["\"3\", \"5\"", "\"8\""]).unwrap();
        assert!(listed.admits(3) && listed.admits(5) && listed.admits(8) && !listed.admits(4));
        assert!(!if_match(&["W/\"3\""]).unwrap().admits(3), "weak tags never match If-Match");
        assert!(!if_match(&["\"abc\""]).unwrap().admits(1));
        assert!(if_match(&["3"]).is_err(), "an unquoted tag is malformed");
        assert!(if_match(&[""]).is_err());
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let parsed = |values: &[&str]| {
            IfNoneMatch(
                parse_tags(&headers(header::IF_NONE_MATCH, values), header::IF_NONE_MATCH).unwrap(),
            )
        };
        assert!(parsed(&["W/\"3\""]).matches("\"3\""));
        assert!(parsed(&["\"2\", \"3\""]).matches("\"3\""));
        assert!(parsed(&["*"]).matches("\"9\""));
        assert!(!parsed(&["\"2\""]).matches("\"3\""));
        assert!(!parsed(&[]).matches("\"3\""));
    }
}
