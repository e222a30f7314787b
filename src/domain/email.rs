use std::fmt;

/// An email address, compared case-insensitively: `normalized()` is the key
/// users are found by, `as_str()` keeps what the user typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    original: String,
    normalized: String,
}

impl Email {
    /// Accepts `local@domain` with no spaces and at most 254 characters.
    /// Deliberately loose: the only proof an address works is mail reaching it.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(s.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if !valid {
            return Err(format!("`{input}` is not an email address"));
        }
        Ok(Email {
            original: s.to_string(),
            normalized: Self::normalize(s),
        })
    }

    /// The lookup key for any string a client sends as a username.
    pub fn normalize(input: &str) -> String {
        input.trim().to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.original
    }

    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_compare_without_case() {
        let e = Email::parse(" Ada@Example.COM ").expect("valid");
        assert_eq!(e.as_str(), "Ada@Example.COM");
        assert_eq!(e.normalized(), "ada@example.com");
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in ["", "ada", "@x", "ada@", "a b@x", "a@b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
