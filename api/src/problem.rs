//! Errors as RFC 9457 problem+json with a stable machine-readable `code`.
//!
//! Every error the API answers is an [`ApiError`], and every `ApiError` carries one [`ErrorCode`]:
//! the enum is the complete list of codes the server can emit. The OpenAPI document lists, per
//! operation, the codes it can answer with [`Problems`], built from the same enum, so it cannot
//! name a code that does not exist here.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use restock_application::ports::StoreError;
use restock_application::CommandError;
use restock_domain::{ProductError, ValueError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Ref, Type};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::ToSchema;

/// The stable, machine-readable error codes (docs/api.md "Conventions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    ValidationFailed,
    Unauthorized,
    Forbidden,
    NotFound,
    /// A routed path called with a method it does not accept.
    MethodNotAllowed,
    InsufficientStock,
    Conflict,
    ReservationExpired,
    IdempotencyKeyReused,
    /// The tenant is over its request rate (`RESTOCK_RATE_LIMIT`); `Retry-After` says when to
    /// come back.
    RateLimited,
    Internal,
    /// The request took longer than `RESTOCK_REQUEST_TIMEOUT`; a command may still have been
    /// recorded, so retry it with the same `Idempotency-Key`.
    Timeout,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 12] = [
        Self::ValidationFailed,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::InsufficientStock,
        Self::Conflict,
        Self::ReservationExpired,
        Self::IdempotencyKeyReused,
        Self::RateLimited,
        Self::Internal,
        Self::Timeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InsufficientStock => "insufficient_stock",
            Self::Conflict => "conflict",
            Self::ReservationExpired => "reservation_expired",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::Timeout => "timeout",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::ValidationFailed => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::InsufficientStock | Self::Conflict => StatusCode::CONFLICT,
            Self::ReservationExpired => StatusCode::GONE,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::ValidationFailed => "Validation failed",
            Self::Unauthorized => "Unauthorized",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::InsufficientStock => "Insufficient stock",
            Self::Conflict => "Conflict",
            Self::ReservationExpired => "Reservation expired",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::RateLimited => "Too many requests",
            Self::Internal => "Internal error",
            Self::Timeout => "Timed out",
        }
    }
}

/// An RFC 9457 problem: the body of every error answer (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    /// `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What was wrong, for people; never internals.
    pub detail: String,
    pub code: ErrorCode,
}

#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    /// Seconds for `Retry-After` (rate limiting).
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, detail)
    }

    pub fn is_not_found(&self) -> bool {
        self.code == ErrorCode::NotFound
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, detail)
    }

    pub fn insufficient_stock(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::InsufficientStock, detail)
    }

    pub fn reservation_expired() -> Self {
        Self::new(
            ErrorCode::ReservationExpired,
            "the reservation expired and its units were returned to stock",
        )
    }

    pub fn idempotency_key_reused() -> Self {
        Self::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was already used with a different request",
        )
    }

    /// Over the tenant's request rate: come back in `retry_after_secs` (at least 1).
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let secs = retry_after_secs.max(1);
        Self {
            retry_after: Some(secs),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("this tenant is over its request rate; retry in {secs} s"),
            )
        }
    }

    pub fn timeout(limit: std::time::Duration) -> Self {
        Self::new(
            ErrorCode::Timeout,
            format!(
                "the request took longer than {} s; a command may have been recorded: retry it \
                 with the same Idempotency-Key",
                limit.as_secs()
            ),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            ErrorCode::MethodNotAllowed,
            "this path does not accept that method",
        )
    }

    /// An unexpected failure: logged in full, answered without internals.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(
            ErrorCode::Internal,
            "an unexpected error occurred; it has been logged",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.code.as_str()),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&self.problem()).unwrap_or_default();
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

/// One error code as a type, so an operation's codes can be listed in `#[utoipa::path]`:
/// `responses(..., Problems<(Unauthorized, NotFound)>)`.
pub trait Code {
    const CODE: ErrorCode;
}

/// Marker types, one per [`ErrorCode`].
pub mod codes {
    use super::{Code, ErrorCode};

    macro_rules! code_types {
        ($($name:ident),* $(,)?) => {
            $(
                #[doc = concat!("[`ErrorCode::", stringify!($name), "`] as a type.")]
                pub struct $name;

                impl Code for $name {
                    const CODE: ErrorCode = ErrorCode::$name;
                }
            )*
        };
    }

    code_types!(
        ValidationFailed,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        InsufficientStock,
        Conflict,
        ReservationExpired,
        IdempotencyKeyReused,
        RateLimited,
        Internal,
        Timeout,
    );
}

/// A tuple of [`Code`]s.
pub trait Codes {
    fn codes() -> Vec<ErrorCode>;
}

macro_rules! tuple_codes {
    ($($t:ident),+) => {
        impl<$($t: Code),+> Codes for ($($t,)+) {
            fn codes() -> Vec<ErrorCode> {
                vec![$($t::CODE),+]
            }
        }
    };
}

tuple_codes!(A);
tuple_codes!(A, B);
tuple_codes!(A, B, C);
tuple_codes!(A, B, C, D);
tuple_codes!(A, B, C, D, E);
tuple_codes!(A, B, C, D, E, F);
tuple_codes!(A, B, C, D, E, F, G);
tuple_codes!(A, B, C, D, E, F, G, H);
tuple_codes!(A, B, C, D, E, F, G, H, I);
tuple_codes!(A, B, C, D, E, F, G, H, I, J);

/// The problem answers of one operation, one response per status: `application/problem+json`,
/// the [`Problem`] schema with `code` narrowed to the codes the operation can answer with that
/// status.
pub struct Problems<C>(PhantomData<C>);

impl<C: Codes> utoipa::IntoResponses for Problems<C> {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
        for code in C::codes() {
            let same = by_status.entry(code.status().as_u16()).or_default();
            if !same.contains(&code) {
                same.push(code);
            }
        }
        by_status
            .into_iter()
            .map(|(status, codes)| {
                let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
                let narrowed = ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property(
                        "code",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(names.clone())),
                    )
                    .required("code");
                let schema = AllOfBuilder::new()
                    .item(Ref::from_schema_name("Problem"))
                    .item(narrowed);
                let description = names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let response = ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .build();
                (status.to_string(), RefOr::T(response))
            })
            .collect()
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

/// A tool call refused over HTTP (the refill command, a confirmed chat action).
impl From<restock_application::tools::ToolError> for ApiError {
    fn from(e: restock_application::tools::ToolError) -> Self {
        use restock_application::tools::ToolError as T;
        match e {
            T::InvalidArguments(d) => ApiError::validation(d),
            T::NotFound(d) => ApiError::not_found(d),
            T::Forbidden(_) => ApiError::forbidden(e.to_string()),
            T::Refused(d) => ApiError::conflict(d),
            T::KeyReused => ApiError::idempotency_key_reused(),
            T::UnknownTool(_) | T::Store(_) => ApiError::internal(e),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `ErrorCode::ALL` lists every variant once, and each serializes as its `as_str`.
    #[test]
    fn all_lists_every_code() {
        fn position(code: ErrorCode) -> usize {
            match code {
                ErrorCode::ValidationFailed => 0,
                ErrorCode::Unauthorized => 1,
                ErrorCode::Forbidden => 2,
                ErrorCode::NotFound => 3,
                ErrorCode::MethodNotAllowed => 4,
                ErrorCode::InsufficientStock => 5,
                ErrorCode::Conflict => 6,
                ErrorCode::ReservationExpired => 7,
                ErrorCode::IdempotencyKeyReused => 8,
                ErrorCode::RateLimited => 9,
                ErrorCode::Internal => 10,
                ErrorCode::Timeout => 11,
            }
        }
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(position(*code), i);
            assert_eq!(
                serde_json::to_value(code).expect("json"),
                serde_json::json!(code.as_str())
            );
        }
    }

    #[test]
    fn a_problem_has_the_rfc_9457_fields_and_a_code() {
        let body = serde_json::to_value(ApiError::not_found("no product with this sku").problem())
            .expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "type": "/problems/not_found",
                "title": "Not found",
                "status": 404,
                "detail": "no product with this sku",
                "code": "not_found",
            })
        );
    }
}
