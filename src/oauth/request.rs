//! Parsing of `application/x-www-form-urlencoded` request bodies, strictly:
//! invalid UTF-8 and repeated parameters are errors (RFC 6749 §3.2, §3.1),
//! not something to repair silently.

use std::collections::HashMap;

use percent_encoding::percent_decode;

use super::OAuthError;

/// The parameters of one request, each present at most once. Empty values
/// count as absent (RFC 6749 §3.1).
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut map = HashMap::new();
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let name = decode(name)?;
            let value = decode(value)?;
            if map.insert(name.clone(), value).is_some() {
                return Err(OAuthError::InvalidRequest(format!(
                    "the parameter `{name}` was sent more than once"
                )));
            }
        }
        Ok(Params(map))
    }

    /// The value of a parameter, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::InvalidRequest(format!("the parameter `{name}` is required"))
        })
    }
}

fn decode(raw: &[u8]) -> Result<String, OAuthError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    // No parameter of OAuth has a use for NUL, and PostgreSQL refuses it in
    // text: refused here, it cannot make the two backends answer differently.
    if bytes.contains(&0) {
        return Err(OAuthError::InvalidRequest(
            "the request contains a NUL character".into(),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| OAuthError::InvalidRequest("the request body is not valid UTF-8".into()))
}

/// Decodes one `application/x-www-form-urlencoded` component, as HTTP Basic
/// credentials of OAuth clients are (RFC 6749 §2.3.1).
pub fn form_decode(raw: &str) -> Result<String, OAuthError> {
    decode(raw.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_decoded() {
        let p = Params::parse(b"a=1&b=x+y%2Bz&c=%C3%A9&d=").expect("valid");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), Some("x y+z"));
        assert_eq!(p.get("c"), Some("é"));
        assert_eq!(p.get("d"), None);
        assert_eq!(p.get("e"), None);
    }

    #[test]
    fn a_repeated_parameter_is_refused() {
        assert!(Params::parse(b"a=1&a=2").is_err());
        assert!(Params::parse(b"a=&a=").is_err());
    }

    #[test]
    fn nul_is_refused_raw_or_encoded() {
        assert!(Params::parse(b"a=x%00").is_err());
        assert!(Params::parse(b"a%00=x").is_err());
        assert!(Params::parse(b"a=\0").is_err());
        assert!(form_decode("id%00").is_err());
    }

    #[test]
    fn invalid_utf8_is_refused_raw_or_encoded() {
        assert!(Params::parse(b"a=%FF").is_err());
        assert!(Params::parse(b"a=\xff").is_err());
    }
}
