//! What a request must get before it is answered: exactly one `Host`, its body read whole (within
//! the body timeout, the size limit and the budget of bodies read at once), then one of the
//! service's slots; and the quiet logging of what was refused.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{StatusCode, Version, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::pin::Pin;
use tokio::sync::OwnedSemaphorePermit;

use super::{EdgeConfig, RequestFacts, Surface};
use crate::ground::telemetry::QuietLog;

/// A request waiting for its body, with the service that will answer it.
pub(super) struct Reading<S> {
    pub(super) read: Pin<Box<dyn Future<Output = Result<Bytes, StatusCode>> + Send>>,
    pub(super) parts: Parts,
    pub(super) service: S,
}

/// Reads a body whole, within the body timeout and the size limit; the reader's permit is given
/// back when it is done. The error is the status to answer with.
pub(super) fn read_whole(
    body: Body,
    config: &EdgeConfig,
    reader: OwnedSemaphorePermit,
) -> impl Future<Output = Result<Bytes, StatusCode>> + Send + 'static {
    let limit = usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX);
    let timeout = config.body_timeout;
    async move {
        let read = tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await;
        drop(reader);
        match read {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(error)) if error.is::<LengthLimitError>() => Err(StatusCode::PAYLOAD_TOO_LARGE),
            // The client went away or sent a malformed chunked body.
            Ok(Err(_)) => Err(StatusCode::BAD_REQUEST),
            Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
        }
    }
}

/// A slot of the service's capacity for a request on `surface` (`None`: it needs none), or 503.
pub(super) fn take_capacity(
    config: &EdgeConfig,
    surface: Surface,
) -> Result<Option<OwnedSemaphorePermit>, StatusCode> {
    if !surface.is_limited() {
        return Ok(None);
    }
    match config.capacity.clone().try_acquire_owned() {
        Ok(permit) => Ok(Some(permit)),
        Err(_) => Err(shed("at capacity")),
    }
}

/// Logs why a request is shed (one line per quiet period) and gives its status.
pub(super) fn shed(reason: &'static str) -> StatusCode {
    if let Some(count) = SHED.tick() {
        tracing::warn!(reason, count, "request shed");
    }
    StatusCode::SERVICE_UNAVAILABLE
}

/// RFC 9112 §3.2: exactly one `Host` on HTTP/1; HTTP/2 may name its authority instead, but
/// never two hosts.
pub(super) fn has_one_host(request: &Request) -> bool {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    match (hosts.next(), hosts.next()) {
        (Some(_), None) => true,
        (None, _) => request.version() >= Version::HTTP_2 && request.uri().authority().is_some(),
        (Some(_), Some(_)) => false,
    }
}

pub(super) static SHED: QuietLog = QuietLog::new();
pub(super) static PER_ADDRESS_REFUSALS: QuietLog = QuietLog::new();

/// [`take_capacity`] with the request's config.
pub(super) fn take_capacity_of(
    facts: &Option<RequestFacts>,
    surface: Surface,
) -> Result<Option<OwnedSemaphorePermit>, StatusCode> {
    match facts {
        Some(facts) => take_capacity(&facts.config, surface),
        None => Ok(None),
    }
}
