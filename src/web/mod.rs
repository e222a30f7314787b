//! The browser surface: GraphiQL and the management console, with every
//! script and stylesheet they load served from the binary itself.

mod assets;
mod pages;

use axum::Router;
use axum::response::{Redirect, Response};
use axum::routing::get;

use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{digest}/{name}", get(assets::serve))
        .route("/console", get(console))
        .route(
            "/console/",
            get(|| async { Redirect::permanent("/console") }),
        )
}

async fn console() -> Response {
    pages::console()
}

/// GraphiQL, for `GET /graphql` from a browser.
pub fn graphiql() -> Response {
    pages::graphiql()
}
