//! HTTP metrics: requests by route, method and status, and latency by
//! route and method. The route is the pattern that matched (`MatchedPath`,
//! e.g. `/oauth/token`), never the raw path, so that a scanner trying a
//! million paths adds one series (`unmatched`), not a million.

use std::fmt::Write;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::MatchedPath;
use axum::http::{Method, Request};
use axum::response::Response;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tower::{Layer, Service};

use super::HistogramFamily;

/// A route pattern. Holds axum's own `MatchedPath` (a shared string), so a
/// lookup allocates nothing.
#[derive(Clone, Debug)]
struct Route(Option<MatchedPath>);

impl Route {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl Hash for Route {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: Route,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    route: Route,
    method: &'static str,
}

pub(super) struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<LatencyLabels>,
}

/// 0.25 ms to 16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.000_25, 2.0, 17,
    ))
}

impl HttpMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "tessera_http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let latency: HistogramFamily<LatencyLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "tessera_http_request_duration_seconds",
            "Time from a request's arrival to its response's headers, by route pattern and method",
            latency.clone(),
        );
        HttpMetrics { requests, latency }
    }
}

/// The standard methods by name; anything else is `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The layer that counts and times every request. It must be added with
/// `Router::layer` (after routing) to see the route pattern.
///
/// A hand-written tower layer rather than `axum::middleware::from_fn`:
/// `from_fn` clones the whole inner service stack on every request (the
/// route's layers included) so that it can own it across the await, which
/// cost more than the counting itself. This one calls the inner service in
/// place and records when the response future completes.
#[derive(Clone, Copy, Debug, Default)]
pub struct TrackRequestsLayer;

impl<S> Layer<S> for TrackRequestsLayer {
    type Service = TrackRequests<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TrackRequests { inner }
    }
}

/// The service of [`TrackRequestsLayer`].
#[derive(Clone, Debug)]
pub struct TrackRequests<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for TrackRequests<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Tracked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let route = Route(request.extensions().get::<MatchedPath>().cloned());
        let method = method_label(request.method());
        Tracked {
            inner: self.inner.call(request),
            route: Some(route),
            method,
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response future that, when it yields a response, counts it.
    pub struct Tracked<F> {
        #[pin]
        inner: F,
        route: Option<Route>,
        method: &'static str,
        started: Instant,
    }
}

impl<F, E> Future for Tracked<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(route)) = (&output, this.route.take()) {
            record(
                route,
                this.method,
                response.status().as_u16(),
                this.started.elapsed(),
            );
        }
        Poll::Ready(output)
    }
}

fn record(route: Route, method: &'static str, status: u16, elapsed: Duration) {
    let http = &super::get().http;
    http.latency
        .get_or_create(&LatencyLabels {
            route: route.clone(),
            method,
        })
        .observe(elapsed.as_secs_f64());
    http.requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status,
        })
        .inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_methods_share_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        let odd = Method::from_bytes(b"BREW").expect("a method");
        assert_eq!(method_label(&odd), "other");
    }
}
