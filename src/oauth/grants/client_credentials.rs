//! The client credentials grant (RFC 6749 §4.4): a confidential client acts
//! on its own behalf. No user, no session, so no refresh token (§4.4.3).

use crate::crypto::jwt::AccessClaims;
use crate::domain::Client;
use crate::oauth::{OAuthError, TokenGrant, TokenRequest, TokenService};

impl TokenService {
    pub(in crate::oauth) async fn client_credentials_grant(
        &self,
        client: &Client,
        request: &TokenRequest,
    ) -> Result<TokenGrant, OAuthError> {
        if client.public {
            return Err(OAuthError::UnauthorizedClient(
                "public clients may not use the client_credentials grant".into(),
            ));
        }
        let scope = Self::requested_scope(&request.params, &client.scopes)?;
        let now = request.context.now;
        let access_token = self.sign(AccessClaims {
            iss: self.jwt.issuer().to_string(),
            sub: client.client_id.clone(),
            aud: self.jwt.audience().to_string(),
            exp: (now + self.policy.access_ttl).timestamp(),
            iat: now.timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
            client_id: client.client_id.clone(),
            scope: scope.to_string(),
            sid: None,
            email: None,
            roles: None,
        })?;
        Ok(TokenGrant {
            access_token,
            expires_in: self.access_expires_in(),
            scope,
            refresh_token: None,
            refresh_in_cookie: false,
        })
    }
}
