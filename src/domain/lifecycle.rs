//! The vocabulary of asynchronous work: the kinds of job, the terminal outcomes a
//! `Prefer` header or an emulator rule may name for each, and the causes the
//! transition journal records. Each knows its wire name (as stored in the database and
//! shown by `/_ccadmin`), and [`JobKind::parse`], [`Outcome::parse`] are the one place
//! where those names are read back.

use serde::{Deserialize, Serialize};

/// A kind of asynchronous work. Emulator rules are keyed by it, and it is the
/// `resourceKind` of the transitions the work journals.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[schema(as = EmulatorJobKind)]
pub enum JobKind {
    #[serde(rename = "account.feature")]
    AccountFeature,
    #[serde(rename = "account.rename")]
    AccountRename,
    #[serde(rename = "voice.aco")]
    VoiceAco,
    #[serde(rename = "voice.msteams")]
    VoiceMsTeams,
    #[serde(rename = "number.activation")]
    NumberActivation,
    #[serde(rename = "org.node")]
    OrgNode,
}

impl JobKind {
    /// Every kind, in the order `GET /_ccadmin/rules` lists them.
    pub const ALL: [JobKind; 6] = [
        JobKind::AccountFeature,
        JobKind::AccountRename,
        JobKind::VoiceAco,
        JobKind::VoiceMsTeams,
        JobKind::NumberActivation,
        JobKind::OrgNode,
    ];

    /// The kind's name, as stored and shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobKind::AccountFeature => "account.feature",
            JobKind::AccountRename => "account.rename",
            JobKind::VoiceAco => "voice.aco",
            JobKind::VoiceMsTeams => "voice.msteams",
            JobKind::NumberActivation => "number.activation",
            JobKind::OrgNode => "org.node",
        }
    }

    /// The kind a stored or requested name means; `None` for a name this version does
    /// not know (a newer version's job, or a typo).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The terminal outcomes a rule or `Prefer` may name for work of this kind, in the
    /// resource's own words.
    pub const fn outcomes(self) -> &'static [Outcome] {
        match self {
            JobKind::AccountFeature | JobKind::AccountRename | JobKind::OrgNode => {
                &[Outcome::Completed, Outcome::Failed]
            }
            JobKind::VoiceAco | JobKind::VoiceMsTeams => &[Outcome::Success, Outcome::Failed],
            JobKind::NumberActivation => &[Outcome::Active, Outcome::Inactive, Outcome::Failed],
        }
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcomes a rule or `Prefer` may name, across kinds (documentation of `outcome`;
/// `kinds` of `GET /_ccadmin/rules` lists each kind's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = EmulatorOutcome)]
pub enum Outcome {
    Completed,
    Success,
    Active,
    Inactive,
    Failed,
}

impl Outcome {
    const ALL: [Outcome; 5] = [
        Outcome::Completed,
        Outcome::Success,
        Outcome::Active,
        Outcome::Inactive,
        Outcome::Failed,
    ];

    /// The outcome's name, as requested, stored and shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "COMPLETED",
            Outcome::Success => "SUCCESS",
            Outcome::Active => "ACTIVE",
            Outcome::Inactive => "INACTIVE",
            Outcome::Failed => "FAILED",
        }
    }

    /// The outcome a name means, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// True for the outcome that ends the work in failure.
    pub const fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed)
    }

    /// `"A, B, C"`: the names of `outcomes`, for messages.
    pub fn list(outcomes: &[Outcome]) -> String {
        outcomes
            .iter()
            .map(|o| o.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What decided a status transition, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The request that started or changed the resource.
    Request,
    /// The request's `Prefer` header.
    Prefer,
    /// An emulator rule.
    Rule,
    /// A worker, with nothing asking for another outcome.
    Worker,
    /// An Administrator through an emulator control (a verification).
    Admin,
}

impl Cause {
    /// The cause's name in the journal.
    pub const fn as_str(self) -> &'static str {
        match self {
            Cause::Request => "request",
            Cause::Prefer => "prefer",
            Cause::Rule => "rule",
            Cause::Worker => "worker",
            Cause::Admin => "admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_to_what_wrote_them() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        assert_eq!(JobKind::parse("voice"), None);
        assert_eq!(Outcome::parse("failed"), None);
    }

    #[test]
    fn every_kind_can_fail_and_names_its_own_success() {
        for k in JobKind::ALL {
            assert!(k.outcomes().contains(&Outcome::Failed), "{k}");
            assert!(k.outcomes().iter().any(|o| !o.is_failure()), "{k}");
        }
        assert_eq!(
            Outcome::list(JobKind::NumberActivation.outcomes()),
            "ACTIVE, INACTIVE, FAILED"
        );
    }
}
