//! What a request is for: the route template that serves it (for logs, metrics and caching) and
//! the surface of the service it belongs to (for its error body, CSP and limits).

/// The route templates the router serves, so that the edge, which wraps the whole router, names a
/// request's route as axum's `MatchedPath` would (for the access log, the metrics and
/// `Cache-Control`). A layer on the router would see `MatchedPath`, but axum puts such a layer
/// around every route, at the cost of a boxed clone and a boxed future per request and level
/// (callgrind: `/healthz` 21,439 instructions as a router layer, 18,914 around the router).
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// The index of a path's template.
    matcher: matchit::Router<usize>,
    templates: Vec<String>,
}

impl RouteTable {
    /// A table of the router's route templates, which requests are labelled with.
    pub fn new(routes: impl IntoIterator<Item = String>) -> Result<Self, matchit::InsertError> {
        let mut table = Self::default();
        for template in routes {
            table.matcher.insert(template.clone(), table.templates.len())?;
            table.templates.push(template);
        }
        Ok(table)
    }

    /// The route that serves `path`, if one does.
    pub(crate) fn find(&self, path: &str) -> Option<usize> {
        self.matcher.at(path).ok().map(|matched| *matched.value)
    }

    pub(crate) fn template(&self, route: usize) -> Option<&str> {
        self.templates.get(route).map(String::as_str)
    }
}

/// Which part of the service a path belongs to: it decides the error body and the CSP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `/api` (but `/api/auth`) and `/openapi.json`: errors are `{detail, error_code, status_code}`.
    TaskApi,
    /// `/healthz` and `/readyz`: the task API's conventions, and never shed.
    Health,
    /// `/api/auth`: Better Auth's `{code, message}`.
    Auth,
    /// `/docs`: the task API's errors, and a CSP that lets Swagger UI run.
    Docs,
    /// Everything else: the browser app, whose pages get the strict page CSP and whose errors
    /// are never JSON.
    App,
}

impl Surface {
    /// Classifies a request path without allocating; the API's paths are tested first.
    pub fn of(path: &str) -> Self {
        if let Some(rest) = path.strip_prefix("/api") {
            if under(rest, "/auth") {
                return Self::Auth;
            }
            if rest.is_empty() || rest.starts_with('/') {
                return Self::TaskApi;
            }
        } else if under(path, "/healthz") || under(path, "/readyz") {
            return Self::Health;
        } else if under(path, "/openapi.json") {
            return Self::TaskApi;
        } else if under(path, "/docs") {
            return Self::Docs;
        }
        Self::App
    }
}

impl Surface {
    /// Whether a request here takes one of the service's limited slots: all but health checks
    /// and the app.
    pub(super) fn is_limited(self) -> bool {
        matches!(self, Self::TaskApi | Self::Auth | Self::Docs)
    }
}

/// `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_classified_into_their_surface() {
        let cases = [
            ("/api/alice/tasks", Surface::TaskApi),
            ("/api", Surface::TaskApi),
            ("/api/", Surface::TaskApi),
            ("/api/auth", Surface::Auth),
            ("/api/authors", Surface::TaskApi),
            ("/api/auth/sign-in/email", Surface::Auth),
            ("/api/auth/nope", Surface::Auth),
            ("/healthz", Surface::Health),
            ("/readyz", Surface::Health),
            ("/openapi.json", Surface::TaskApi),
            ("/docs", Surface::Docs),
            ("/docs/index.html", Surface::Docs),
            ("/", Surface::App),
            ("/tasks", Surface::App),
            ("/assets/app.js", Surface::App),
            ("/apiary", Surface::App),
            ("/healthzz", Surface::App),
            ("/docsearch", Surface::App),
        ];
        for (path, surface) in cases {
            assert_eq!(Surface::of(path), surface, "{path}");
        }
    }
}
