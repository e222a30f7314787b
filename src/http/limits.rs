//! Request body limits on every route. A declared `Content-Length` over the
//! limit is answered 413 before a byte of the body is read; a body without
//! one (chunked) is cut off at the limit by `DefaultBodyLimit`, which every
//! extractor that reads a body (`Bytes`, and through it the OAuth form and
//! the GraphQL request) honours with a 413 of its own.
//!
//! The check is a header lookup and an integer parse: it allocates nothing
//! on the way through, which matters on `/oauth/token`.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, header};
use axum::response::Response;
use futures_util::future::{Either, Ready, ready};
use tower::{Layer, Service};

/// Routes that take no body (or only a small one) get this much.
pub const SMALL_BODY_LIMIT: usize = 16 * 1024;

/// Applies `limit` to every route of `router`; `too_large` builds the 413
/// in the format of that surface (OAuth JSON error, GraphQL error, …).
pub fn limit_body<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    limit: usize,
    too_large: fn() -> Response,
) -> Router<S> {
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(BodyLimitLayer { limit, too_large })
}

#[derive(Clone, Copy)]
pub struct BodyLimitLayer {
    limit: usize,
    too_large: fn() -> Response,
}

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimit {
            inner,
            limit: self.limit,
            too_large: self.too_large,
        }
    }
}

#[derive(Clone)]
pub struct BodyLimit<S> {
    inner: S,
    limit: usize,
    too_large: fn() -> Response,
}

impl<S> Service<Request<Body>> for BodyLimit<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if declared_length(&request).is_some_and(|n| n > self.limit as u64) {
            return Either::Left(ready(Ok((self.too_large)())));
        }
        Either::Right(self.inner.call(request))
    }
}

/// The `Content-Length` a request declares. An unparsable one is left to
/// hyper, which refuses it before we see the request.
fn declared_length<B>(request: &Request<B>) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// A plain JSON 413 for routes with no error format of their own.
pub fn too_large_json() -> Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        axum::Json(serde_json::json!({
            "error": "payload_too_large",
            "error_description": "the request body is too large"
        })),
    )
        .into_response()
}

/// Parses a size: `1048576`, `64KiB`, `1MiB` (also `kb`/`mb`-style, read as
/// binary units), at least one byte.
pub fn parse_size(input: &str) -> Result<usize, String> {
    let s = input.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{input}` is not a size like 65536, 64KiB or 1MiB"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        _ => return Err(format!("`{input}` has an unknown unit: use KiB or MiB")),
    };
    match n.checked_mul(factor) {
        Some(0) => Err(format!("`{input}` must be at least one byte")),
        Some(size) if size <= 1024 * 1024 * 1024 => Ok(size),
        _ => Err(format!("`{input}` is larger than 1 GiB")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("2mb"), Ok(2 << 20));
    }

    #[test]
    fn sizes_reject_nonsense() {
        for bad in [
            "",
            "0",
            "KiB",
            "1.5MiB",
            "1GiB",
            "99999999999999999999",
            "2048MiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad} was accepted");
        }
    }
}
