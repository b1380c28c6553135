//! Strict parsing of compact JWS tokens: three unpadded base64url segments of JSON objects with no
//! duplicate members. Nothing here trusts the token; it only refuses what is not well-formed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

use super::TokenError;

/// Tokens larger than this are refused before any decoding (RFC 8725 asks for bounded input).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// `kid` is an opaque string; longer ones are refused.
pub const MAX_KID_CHARS: usize = 256;

/// A token split into its parts, with header and claims parsed but not yet trusted.
#[derive(Debug)]
pub struct UnverifiedJws<'a> {
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    pub signing_input: &'a str,
    /// The third segment, still base64url-encoded.
    pub signature: &'a str,
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub claims: Map<String, Value>,
}

impl<'a> UnverifiedJws<'a> {
    pub fn parse(token: &'a str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::MalformedToken);
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::MalformedToken);
        };
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];

        let header = decode_object(header_b64)?;
        // RFC 7515 §4.1.11: we understand no extensions, so any `crit` makes the token unusable.
        if header.contains_key("crit") {
            return Err(TokenError::MalformedToken);
        }
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(TokenError::MalformedToken),
        };
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) if kid.chars().count() <= MAX_KID_CHARS => Some(kid.clone()),
            Some(_) => return Err(TokenError::MalformedToken),
        };
        let typ = match header.get("typ") {
            None => None,
            Some(Value::String(typ)) => Some(typ.clone()),
            Some(_) => return Err(TokenError::MalformedToken),
        };
        // `jku`, `x5u`, `jwk`, `x5c` are deliberately never read: keys come only from configuration.

        if signature.is_empty() || !is_strict_base64url(signature) {
            return Err(TokenError::InvalidTokenSignature);
        }
        let claims = decode_object(payload_b64)?;
        Ok(Self { signing_input, signature, alg, kid, typ, claims })
    }
}

fn is_strict_base64url(segment: &str) -> bool {
    URL_SAFE_NO_PAD.decode(segment).is_ok()
}

fn decode_object(segment: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| TokenError::MalformedToken)?;
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let StrictValue(value) =
        de::Deserialize::deserialize(&mut deserializer).map_err(|_| TokenError::MalformedToken)?;
    deserializer.end().map_err(|_| TokenError::MalformedToken)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(TokenError::MalformedToken),
    }
}

/// A JSON value whose objects, at any depth, are refused if a member name repeats: two parsers
/// that pick different duplicates would otherwise disagree on what a token says.
struct StrictValue(Value);

impl<'de> de::Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let StrictValue(value) = access.next_value()?;
            if map.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate member"));
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(payload), b64("sig"))
    }

    #[test]
    fn a_well_formed_token_parses() {
        let t = token(r#"{"alg":"HS256","kid":"k1"}"#, r#"{"sub":"u","exp":1}"#);
        let jws = UnverifiedJws::parse(&t).unwrap();
        assert_eq!(jws.alg, "HS256");
        assert_eq!(jws.kid.as_deref(), Some("k1"));
        assert_eq!(jws.claims["sub"], "u");
    }

    #[test]
    fn duplicate_members_are_refused_at_any_depth() {
        let top = token(r#"{"alg":"HS256"}"#, r#"{"sub":"a","sub":"b"}"#);
        let nested = token(r#"{"alg":"HS256"}"#, r#"{"x":{"y":1,"y":2}}"#);
        let header = token(r#"{"alg":"HS256","alg":"none"}"#, r#"{}"#);
        for t in [top, nested, header] {
            assert_eq!(UnverifiedJws::parse(&t).unwrap_err(), TokenError::MalformedToken);
        }
    }

    #[test]
    fn padding_wrong_segment_counts_and_non_objects_are_refused() {
        let good = token(r#"{"alg":"HS256"}"#, r#"{}"#);
        let padded =
            format!("{}=", good.split('.').next().unwrap()) + &good[good.find('.').unwrap()..];
        let cases = [
            padded,
            format!("{good}.extra"),
            good.rsplit_once('.').unwrap().0.to_owned(),
            token(r#"["alg"]"#, r#"{}"#),
            token(r#"{"alg":"HS256"}"#, r#""string""#),
            token(r#"{"alg":"HS256","crit":["exp"]}"#, r#"{}"#),
            token(r#"{"alg":"HS256","kid":7}"#, r#"{}"#),
            token(&format!(r#"{{"alg":"HS256","kid":"{}"}}"#, "k".repeat(MAX_KID_CHARS + 1)), "{}"),
            token(r#"{"alg":"HS256"}"#, r#"{} trailing"#),
            "a".repeat(MAX_TOKEN_BYTES + 1),
        ];
        for t in cases {
            assert_eq!(UnverifiedJws::parse(&t).unwrap_err(), TokenError::MalformedToken, "{t}");
        }
    }

    #[test]
    fn an_empty_signature_is_a_signature_failure() {
        let t = token(r#"{"alg":"none"}"#, r#"{}"#);
        let unsigned = format!("{}.", t.rsplit_once('.').unwrap().0);
        assert_eq!(UnverifiedJws::parse(&unsigned).unwrap_err(), TokenError::InvalidTokenSignature);
    }
}
