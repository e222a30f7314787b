//! The GraphQL edge's one rule for every string argument: no NUL. No field
//! of this API has a use for it, and PostgreSQL refuses it in text, so a
//! NUL that reached the store would be a 500 on one backend and not on the
//! other. Checked once per request (over HTTP and per WebSocket operation
//! alike: it is a schema extension), on the query text (string literals may
//! spell it `\u0000`) and on every variable, before anything runs.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Pos, Request, ServerResult, Value};

use super::error::ApiError;

/// Refuses requests with a NUL anywhere, as `BAD_USER_INPUT`.
pub struct NulGuard;

impl ExtensionFactory for NulGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NulGuard)
    }
}

#[async_trait::async_trait]
impl Extension for NulGuard {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Some(why) = refusal(&request) {
            let error = ApiError::BadUserInput(why.into());
            return Err(async_graphql::Error::from(error).into_server_error(Pos::default()));
        }
        next.run(ctx, request).await
    }
}

/// Why the request is refused, if it is.
pub fn refusal(request: &Request) -> Option<&'static str> {
    let query_has_nul = request.query.contains('\0') || spells_nul(&request.query);
    let variables_have_nul = request
        .variables
        .iter()
        .any(|(name, value)| name.contains('\0') || has_nul(value));
    let name_has_nul = request
        .operation_name
        .as_deref()
        .is_some_and(|n| n.contains('\0'));
    (query_has_nul || variables_have_nul || name_has_nul)
        .then_some("the request contains a NUL character")
}

/// `\u0000` or `\u{0}` (in any case, with any number of zeros) in the text.
fn spells_nul(query: &str) -> bool {
    query.match_indices("\\u").any(|(at, _)| {
        let rest = &query[at + 2..];
        let digits = match rest.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => &braced[..end],
                None => return false,
            },
            None => rest.get(..4).unwrap_or(""),
        };
        !digits.is_empty() && digits.bytes().all(|b| b == b'0')
    })
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Enum(name) => name.contains('\0'),
        Value::List(items) => items.iter().any(has_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(name, v)| name.contains('\0') || has_nul(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::Variables;
    use serde_json::json;

    fn request(query: &str, variables: serde_json::Value) -> Request {
        Request::new(query).variables(Variables::from_json(variables))
    }

    #[test]
    fn nul_in_query_text_or_variables_is_refused() {
        assert!(refusal(&request("{ user(id: \"a\0\") { id } }", json!({}))).is_some());
        assert!(refusal(&request(r#"{ user(id: "a\u0000") { id } }"#, json!({}))).is_some());
        assert!(refusal(&request(r#"{ user(id: "a\u{000}") { id } }"#, json!({}))).is_some());
        let nested = json!({"input": {"roles": ["a", "b\u{0}"]}});
        assert!(refusal(&request("query($input: X) { a }", nested)).is_some());
    }

    #[test]
    fn ordinary_requests_pass() {
        assert!(
            refusal(&request(
                r#"{ users(search: "\u00e9\u0041") { totalCount } }"#,
                json!({"a": "x"})
            ))
            .is_none()
        );
        assert!(refusal(&request(r#"{ a(b: "\u") }"#, json!({}))).is_none());
    }
}
