//! Identifiers that appear in AXP paths.

use std::fmt;

use rand::Rng;

use super::violation::Violation;

/// The spec's pattern for 6-letter ids (accounts, organization nodes, profiles).
pub const SIX_LETTERS: &str = "^[a-zA-Z]{6}$";

/// Six ASCII letters, as in the AXP path `/accounts/{accountId}`. Case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

/// Why a string is not an [`AccountId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must match \"{SIX_LETTERS}\"")]
pub struct AccountIdError;

impl AccountId {
    /// A fresh random id of six upper-case letters, as AXP generates them.
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        Self((0..6).map(|_| rng.gen_range(b'A'..=b'Z') as char).collect())
    }

    /// Parses `value`, naming `field` in the violation when it is not six letters.
    pub fn parse_field(field: &str, value: &str) -> Result<Self, Violation> {
        Self::try_from(value.to_owned()).map_err(|_| Violation::pattern(field, SIX_LETTERS))
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = AccountIdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.len() == 6 && value.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Self(value))
        } else {
            Err(AccountIdError)
        }
    }
}

impl AsRef<str> for AccountId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_six_letter_account_id_is_accepted_in_either_case() {
        assert!(AccountId::try_from("AQWSDE".to_owned()).is_ok());
        assert!(AccountId::try_from("aqwsde".to_owned()).is_ok());
    }

    #[test]
    fn a_five_letter_account_id_is_rejected() {
        assert_eq!(AccountId::try_from("ABCDE".to_owned()), Err(AccountIdError));
    }

    #[test]
    fn digits_and_non_ascii_letters_are_rejected() {
        assert!(AccountId::try_from("ABCDE1".to_owned()).is_err());
        assert!(AccountId::try_from("ABCDEÉ".to_owned()).is_err());
    }

    #[test]
    fn generated_ids_are_valid() {
        for _ in 0..100 {
            let id = AccountId::generate();
            assert!(AccountId::try_from(id.as_str().to_owned()).is_ok());
        }
    }
}
