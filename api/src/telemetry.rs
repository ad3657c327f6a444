//! Request tracing: every request gets an id (the client's `x-request-id` when it sent one, else
//! a fresh UUIDv7), a span carrying that id, and one log line when it is answered. The same id
//! is the `correlation_id` of the events the request appends (`extract::Caller`), so a log line
//! and an event can be matched by one value.

use axum::http::{HeaderName, Request};
use axum::Router;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use uuid::Uuid;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// UUIDv7, the same kind of id the engine gives events, so ids sort by time.
#[derive(Debug, Clone, Copy, Default)]
struct MakeUuidV7;

impl MakeRequestId for MakeUuidV7 {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        Uuid::now_v7().to_string().parse().ok().map(RequestId::new)
    }
}

fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
    )
}

/// Wrap the router: the id is set first (outermost), so the trace span already sees it, and it
/// is copied onto the response for the client.
pub fn traced(router: Router) -> Router {
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeUuidV7))
}
