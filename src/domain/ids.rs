//! Identifiers that appear in AXP paths: six-letter account ids, and the UUIDs of
//! elements and phone numbers. Each is made only by parsing (or generating), so a
//! value of these types is valid and, for UUIDs, in the one form the store keeps.

use std::fmt;

use rand::Rng;

use super::violation::Violation;

/// The spec's pattern for 6-letter ids (accounts, organization nodes, profiles).
pub const SIX_LETTERS: &str = "^[a-zA-Z]{6}$";

/// The spec's pattern for UUIDs.
pub const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

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

/// A UUID-identified resource's id type: private field, made by [`parse`](Self::parse)
/// or generated, held as the lower-case hyphenated form (36 characters) that ids are
/// stored in. Paths and bodies may write a UUID in any case; only the 36-character
/// hyphenated form is a UUID here (the spec's pattern), not the braced, URN or simple
/// forms that `uuid` also reads.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// A fresh random (version 4) id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            /// Parses a UUID in any case; `None` if `raw` is not one.
            pub fn parse(raw: &str) -> Option<Self> {
                match uuid::Uuid::try_parse(raw) {
                    Ok(u) if raw.len() == 36 => Some(Self(u.hyphenated().to_string())),
                    _ => None,
                }
            }

            /// Parses `raw`, naming `field` in the violation when it is not a UUID.
            pub fn parse_field(field: &str, raw: &str) -> Result<Self, Violation> {
                Self::parse(raw).ok_or_else(|| Violation::pattern(field, UUID_PATTERN))
            }

            /// The id, lower-case and hyphenated.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

uuid_id!(
    /// A voice element's id (`{elementId}`).
    ElementId
);

uuid_id!(
    /// A phone number's id (`{phoneNumberId}`), not the number itself.
    PhoneNumberId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_in_any_case_is_read_as_lower_case() {
        let id = PhoneNumberId::parse("0F8FAD5B-D9CB-469F-A165-70867728950E").unwrap();
        assert_eq!(id.as_str(), "0f8fad5b-d9cb-469f-a165-70867728950e");
        assert_eq!(ElementId::parse(id.as_str()).unwrap().as_str(), id.as_str());
    }

    #[test]
    fn only_the_hyphenated_form_is_a_uuid() {
        for raw in [
            "0f8fad5bd9cb469fa16570867728950e",
            "{0f8fad5b-d9cb-469f-a165-70867728950e}",
            "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950",
            "",
        ] {
            assert!(ElementId::parse(raw).is_none(), "{raw}");
        }
        assert_eq!(
            PhoneNumberId::parse_field("phoneNumberId", "x")
                .unwrap_err()
                .field,
            "phoneNumberId"
        );
    }

    #[test]
    fn generated_uuids_parse_as_themselves() {
        let id = ElementId::generate();
        assert_eq!(ElementId::parse(id.as_str()), Some(id));
    }

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
