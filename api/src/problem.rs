//! Errors as RFC 9457 problem+json with a stable machine-readable `code`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use restock_application::ports::StoreError;
use restock_application::CommandError;
use restock_domain::{ProductError, ValueError};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
        }
    }

    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "Validation failed",
            detail,
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    pub fn insufficient_stock(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "insufficient_stock",
            "Insufficient stock",
            detail,
        )
    }

    pub fn reservation_expired() -> Self {
        Self::new(
            StatusCode::GONE,
            "reservation_expired",
            "Reservation expired",
            "the reservation expired and its units were returned to stock",
        )
    }

    pub fn idempotency_key_reused() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "Idempotency key reused",
            "this Idempotency-Key was already used with a different request",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
            "this path does not accept that method",
        )
    }

    /// An unexpected failure: logged in full, answered without internals.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "an unexpected error occurred; it has been logged",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "type": format!("/problems/{}", self.code),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

impl From<ValueError> for ApiError {
    fn from(e: ValueError) -> Self {
        ApiError::validation(e.to_string())
    }
}

impl From<ProductError> for ApiError {
    fn from(e: ProductError) -> Self {
        use ProductError as P;
        match e {
            P::NotRegistered => ApiError::not_found("no product with this sku"),
            P::InsufficientStock { .. } => ApiError::insufficient_stock(e.to_string()),
            P::ReservationNotFound => ApiError::not_found("no reservation with this id"),
            P::RefillNotFound => ApiError::not_found("no refill with this id"),
            P::ReservationExpired => ApiError::reservation_expired(),
            P::ReservationReleased
            | P::ReservationConfirmed
            | P::RefillAlreadyOpen
            | P::RefillClosed(_) => ApiError::conflict(e.to_string()),
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Rejected(p) => p.into(),
            CommandError::Conflict => ApiError::conflict(e.to_string()),
            CommandError::IdempotencyKeyReused => ApiError::idempotency_key_reused(),
            CommandError::Store(s) => ApiError::internal(s),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<restock_infrastructure::DbError> for ApiError {
    fn from(e: restock_infrastructure::DbError) -> Self {
        ApiError::internal(e)
    }
}
