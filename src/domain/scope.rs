use std::collections::BTreeSet;
use std::fmt;

/// An RFC 6749 §3.3 scope: a set of space-delimited tokens. Kept sorted so
/// that two equal scopes print the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a space-delimited list; each token is `%x21 / %x23-5B / %x5D-7E`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut set = BTreeSet::new();
        for token in input.split(' ').filter(|t| !t.is_empty()) {
            let valid = token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
            if !valid {
                return Err(format!("`{token}` is not a valid scope token"));
            }
            set.insert(token.to_string());
        }
        Ok(Scope(set))
    }

    /// Builds a scope from tokens already checked, such as stored ones.
    pub fn from_stored(stored: &str) -> Self {
        Scope(
            stored
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for token in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_sets_printed_in_order() {
        let s = Scope::parse("email  profile email").expect("valid");
        assert_eq!(s.to_string(), "email profile");
    }

    #[test]
    fn subset_is_checked_token_by_token() {
        let wide = Scope::parse("a b c").expect("valid");
        assert!(Scope::parse("a c").expect("valid").is_subset_of(&wide));
        assert!(!Scope::parse("a d").expect("valid").is_subset_of(&wide));
        assert!(Scope::default().is_subset_of(&wide));
    }

    #[test]
    fn quotes_and_backslashes_are_not_scope_characters() {
        assert!(Scope::parse("a\"b").is_err());
        assert!(Scope::parse("a\\b").is_err());
        assert!(Scope::parse("é").is_err());
    }
}
