//! The interop proof: a resource server that knows nothing of Tessera but its
//! address validates Tessera's access tokens with the published metadata
//! (RFC 8414), the JWKS it points to (RFC 7517) and an off-the-shelf JWT
//! library configured here, independently of Tessera's own verifier. This is
//! what `examples/resource_server.rs` does, minus the HTTP service around it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app, str_field, token_success};

/// What a resource server learns from discovery, and how it validates.
struct ResourceServer {
    issuer: String,
    keys: JwkSet,
}

impl ResourceServer {
    /// Discovery from the authorization server's base URL alone.
    async fn discover(http: &reqwest::Client, base_url: &str) -> Self {
        let metadata: Value = http
            .get(format!("{base_url}/.well-known/oauth-authorization-server"))
            .send()
            .await
            .expect("metadata request")
            .json()
            .await
            .expect("metadata JSON");
        let issuer = metadata["issuer"].as_str().expect("issuer").to_string();
        let jwks_uri = metadata["jwks_uri"].as_str().expect("jwks_uri");
        let keys: JwkSet = http
            .get(jwks_uri)
            .send()
            .await
            .expect("JWKS request")
            .json()
            .await
            .expect("a JWK set");
        ResourceServer { issuer, keys }
    }

    /// Validates an access token as RFC 9068 §4 asks of a resource server;
    /// returns its claims.
    fn validate(&self, token: &str) -> Result<Value, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err(format!("not an access token: typ {:?}", header.typ));
        }
        let kid = header.kid.ok_or("no kid")?;
        let jwk = self.keys.find(&kid).ok_or("unknown kid")?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        // The algorithm is fixed here, never taken from the token.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        // Tessera's default audience is its issuer.
        validation.set_audience(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }
}

async fn user_access_token(app: &TestApp) -> String {
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    str_field(&login, "access_token").to_string()
}

#[tokio::test]
async fn a_user_access_token_validates_with_nothing_but_the_metadata_and_its_jwks() {
    let app = spawn_app().await;
    let token = user_access_token(&app).await;

    let resource_server = ResourceServer::discover(&app.http, &app.address).await;
    let claims = resource_server.validate(&token).expect("a valid token");

    assert_eq!(claims["email"], ADMIN_EMAIL, "{claims}");
    assert_eq!(claims["iss"], resource_server.issuer.as_str());
}

#[tokio::test]
async fn a_client_credentials_token_validates_the_same_way() {
    let app = spawn_app().await;
    let (id, secret) = app.create_confidential_client(
        "reports",
        &["--grant-type", "client_credentials", "--scope", "read"],
    );
    let res = app
        .token_basic(&id, &secret, &[("grant_type", "client_credentials")])
        .await;
    let token = token_success(res).await;

    let resource_server = ResourceServer::discover(&app.http, &app.address).await;
    let claims = resource_server
        .validate(str_field(&token, "access_token"))
        .expect("a valid token");

    assert_eq!(claims["sub"], "reports", "{claims}");
}

#[tokio::test]
async fn the_independent_validation_refuses_a_tampered_token() {
    let app = spawn_app().await;
    let token = user_access_token(&app).await;
    let resource_server = ResourceServer::discover(&app.http, &app.address).await;
    // The control: this very validation accepts the untouched token.
    resource_server.validate(&token).expect("a valid token");

    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).expect("base64url"))
            .expect("JSON claims");
    claims["roles"] = json!(["admin", "superuser"]);
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("serialise"));
    let tampered = parts.join(".");

    assert!(resource_server.validate(&tampered).is_err());
}

#[tokio::test]
async fn the_independent_validation_refuses_a_token_for_another_issuer() {
    let app = spawn_app().await;
    let other = spawn_app().await;
    let token = user_access_token(&other).await;

    let resource_server = ResourceServer::discover(&app.http, &app.address).await;

    assert!(resource_server.validate(&token).is_err());
}
