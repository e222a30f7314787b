//! Client authentication (RFC 6749 §2.3): HTTP Basic, credentials in the
//! body, or a public client naming itself.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::OAuthError;
use super::request::{Params, form_decode};
use crate::crypto::opaque;
use crate::domain::Client;
use crate::store::Store;

/// What the client presented, before checking it.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials {
    /// `client_secret_basic`.
    Basic {
        client_id: String,
        secret: String,
    },
    /// `client_secret_post`.
    Post {
        client_id: String,
        secret: String,
    },
    /// Only a `client_id`: a public client, or a confidential one that forgot its secret.
    IdOnly {
        client_id: String,
    },
    None,
}

impl Credentials {
    /// Reads the `Authorization` header and the body. Two methods at once is
    /// `invalid_request` (RFC 6749 §2.3: "MUST NOT use more than one").
    pub fn from_request(authorization: Option<&str>, params: &Params) -> Result<Self, OAuthError> {
        let body_id = params.get("client_id");
        let body_secret = params.get("client_secret");
        let basic = match authorization {
            Some(value) => parse_basic(value)?,
            None => None,
        };
        match (basic, body_id, body_secret) {
            (Some(_), _, Some(_)) => Err(OAuthError::InvalidRequest(
                "use one client authentication method, not both Basic and client_secret".into(),
            )),
            (Some((id, _)), Some(other), None) if other != id => Err(OAuthError::InvalidRequest(
                "client_id in the body does not match the Basic credentials".into(),
            )),
            (Some((client_id, secret)), _, None) => Ok(Credentials::Basic { client_id, secret }),
            (None, Some(id), Some(secret)) => Ok(Credentials::Post {
                client_id: id.to_string(),
                secret: secret.to_string(),
            }),
            (None, Some(id), None) => Ok(Credentials::IdOnly {
                client_id: id.to_string(),
            }),
            (None, None, Some(_)) => Err(OAuthError::InvalidRequest(
                "client_secret was sent without client_id".into(),
            )),
            (None, None, None) => Ok(Credentials::None),
        }
    }

    fn used_basic(&self) -> bool {
        matches!(self, Credentials::Basic { .. })
    }

    /// Checks the credentials against the registered client. Every failure
    /// looks the same to the caller: unknown client, wrong secret, missing
    /// secret, or a secret sent by a public client.
    pub async fn authenticate(&self, store: &Store) -> Result<Client, OAuthError> {
        let basic = self.used_basic();
        let (client_id, secret) = match self {
            Credentials::Basic { client_id, secret } | Credentials::Post { client_id, secret } => {
                (client_id, Some(secret))
            }
            Credentials::IdOnly { client_id } => (client_id, None),
            Credentials::None => {
                return Err(OAuthError::InvalidClient {
                    description: "client authentication is required".into(),
                    basic,
                });
            }
        };
        let client = store
            .find_client(client_id)
            .await?
            .ok_or_else(|| OAuthError::invalid_client(basic))?;
        let ok = match (&client.secret_hash, secret) {
            (Some(hash), Some(secret)) => opaque::matches(secret, hash),
            (None, None) => true,
            _ => false,
        };
        if ok {
            Ok(client)
        } else {
            Err(OAuthError::invalid_client(basic))
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`. Other schemes are
/// not client authentication and are ignored.
fn parse_basic(header: &str) -> Result<Option<(String, String)>, OAuthError> {
    let Some((scheme, value)) = header.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed = || OAuthError::InvalidClient {
        description: "malformed HTTP Basic credentials".into(),
        basic: true,
    };
    let decoded = STANDARD.decode(value.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let id = form_decode(id).map_err(|_| malformed())?;
    let secret = form_decode(secret).map_err(|_| malformed())?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok(Some((id, secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> Params {
        Params::parse(body.as_bytes()).expect("valid body")
    }

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let c = Credentials::from_request(Some(&basic("my%3Aclient", "s%2Bcr+t")), &params(""));
        assert_eq!(
            c.expect("valid"),
            Credentials::Basic {
                client_id: "my:client".into(),
                secret: "s+cr t".into()
            }
        );
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let c = Credentials::from_request(
            Some(&basic("a", "b")),
            &params("client_id=a&client_secret=b"),
        );
        assert!(matches!(c, Err(OAuthError::InvalidRequest(_))));
    }

    #[test]
    fn body_credentials_and_public_ids_are_recognised() {
        assert!(matches!(
            Credentials::from_request(None, &params("client_id=a&client_secret=b")),
            Ok(Credentials::Post { .. })
        ));
        assert!(matches!(
            Credentials::from_request(None, &params("client_id=a")),
            Ok(Credentials::IdOnly { .. })
        ));
        assert!(matches!(
            Credentials::from_request(Some("Bearer xyz"), &params("")),
            Ok(Credentials::None)
        ));
    }

    #[test]
    fn garbage_basic_is_invalid_client() {
        assert!(matches!(
            Credentials::from_request(Some("Basic !!!"), &params("")),
            Err(OAuthError::InvalidClient { basic: true, .. })
        ));
    }
}
