//! The scope and email parsers. No input may panic; what parses prints
//! back to something that parses to the same value, and holds no control
//! character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::domain::{Email, Scope};

fuzz_target!(|input: &str| {
    if let Ok(scope) = Scope::parse(input) {
        let printed = scope.to_string();
        assert!(!printed.chars().any(char::is_control));
        assert_eq!(Scope::parse(&printed), Ok(scope));
    }
    if let Ok(email) = Email::parse(input) {
        assert!(
            !email
                .as_str()
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        );
        let again = Email::parse(email.as_str()).expect("a parsed email parses again");
        assert_eq!(again.normalized(), email.normalized());
        assert_eq!(Email::normalize(email.as_str()), email.normalized());
    }
});
