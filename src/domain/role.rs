//! Roles and feature grants carried by clients, users and their tokens.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::feature::Feature;

/// A role of the AXP access-control model that ccadmin enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Role {
    /// A platform administrator: a client of the default account, acting in every account.
    #[serde(rename = "Administrator")]
    Administrator,
    /// Administers its own account only.
    #[serde(rename = "Account Administrator")]
    AccountAdministrator,
}

impl Role {
    /// Every role, for messages that list the allowed values.
    pub const ALL: [Role; 2] = [Role::Administrator, Role::AccountAdministrator];

    /// The role's name as AXP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::AccountAdministrator => "Account Administrator",
        }
    }

    /// Parses a role name, exactly as AXP writes it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The account features a client may change (the seed: "Account Administrator does
/// not have access to ... account features ... except for the features for which it
/// has explicitly given the permissions").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FeatureGrants(Vec<String>);

impl FeatureGrants {
    /// The grant that covers every feature.
    pub const ALL: &'static str = "*";

    /// Grants every feature.
    pub fn all() -> Self {
        Self(vec![Self::ALL.to_owned()])
    }

    /// Grants the listed features.
    pub fn of(features: Vec<String>) -> Self {
        Self(features)
    }

    /// True when `feature` may be changed.
    pub fn allows(&self, feature: &str) -> bool {
        self.0.iter().any(|g| g == Self::ALL || g == feature)
    }

    /// The granted names.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// In the document: a list of `*` (every feature) and feature names, built from
/// [`Feature::ALL`] so that it cannot drift from the features the server knows.
impl utoipa::PartialSchema for FeatureGrants {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
        let names = std::iter::once(Self::ALL).chain(Feature::ALL.map(Feature::as_str));
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(names)),
            )
            .description(Some(
                "The account features a client may see and change: `*` for every \
                 feature, or feature names.",
            ))
            .examples([
                serde_json::json!(["*"]),
                serde_json::json!(["voice", "chat"]),
            ])
            .into()
    }
}

impl utoipa::ToSchema for FeatureGrants {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("administrator"), None);
    }

    #[test]
    fn the_wildcard_grant_allows_every_feature() {
        assert!(FeatureGrants::all().allows("voice"));
        let some = FeatureGrants::of(vec!["chat".into()]);
        assert!(some.allows("chat"));
        assert!(!some.allows("voice"));
    }
}
