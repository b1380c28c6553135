//! Redaction: what of a secret-bearing value may reach a log line or a message.

/// A URL fit for logs and messages: no user info (passwords), no query string or fragment (tokens).
pub fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        // Not a URL we can take apart: show only what precedes any credentials.
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…"),
            None => "…".to_owned(),
        },
    }
}
