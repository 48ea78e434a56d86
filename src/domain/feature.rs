//! Account features (`features.voice`, `features.chat`, ...) and their provisioning
//! statuses as `POST /accounts:listStatuses` reports them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::violation::{Code, Violation, check_len};

/// A feature of the spec's `AccountFeatures`, in the spec's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Feature {
    Voice,
    Chat,
    Messaging,
    Email,
    Ucs,
    Recorder,
    Aci,
    Bvr,
    Matching,
    Outbound,
    Cmvoice,
    Automatedoutreach,
    Advancedcmvoice,
    Realtimevoicetranscription,
}

impl Feature {
    /// Every feature, in the spec's order.
    pub const ALL: [Feature; 14] = [
        Feature::Voice,
        Feature::Chat,
        Feature::Messaging,
        Feature::Email,
        Feature::Ucs,
        Feature::Recorder,
        Feature::Aci,
        Feature::Bvr,
        Feature::Matching,
        Feature::Outbound,
        Feature::Cmvoice,
        Feature::Automatedoutreach,
        Feature::Advancedcmvoice,
        Feature::Realtimevoicetranscription,
    ];

    /// The feature's key in `features`.
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Voice => "voice",
            Feature::Chat => "chat",
            Feature::Messaging => "messaging",
            Feature::Email => "email",
            Feature::Ucs => "ucs",
            Feature::Recorder => "recorder",
            Feature::Aci => "aci",
            Feature::Bvr => "bvr",
            Feature::Matching => "matching",
            Feature::Outbound => "outbound",
            Feature::Cmvoice => "cmvoice",
            Feature::Automatedoutreach => "automatedoutreach",
            Feature::Advancedcmvoice => "advancedcmvoice",
            Feature::Realtimevoicetranscription => "realtimevoicetranscription",
        }
    }

    /// The feature with key `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The voice feature: the spec's fields and the seed's (`cloudSwitchAccountDID`,
/// `cloudSwitchAccountUCID`, `voiceProvider`, `deleteVoiceProviderData`), all kept;
/// other members are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct VoiceFeature {
    /// The seed's cloud switch DID (extension).
    #[serde(
        rename = "cloudSwitchAccountDID",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, max_length = 255)]
    cloud_switch_account_did: Option<String>,
    /// The seed's cloud switch UCID (extension).
    #[serde(
        rename = "cloudSwitchAccountUCID",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false, max_length = 255)]
    cloud_switch_account_ucid: Option<String>,
    /// The seed's voice provider (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 255, example = "UCCC")]
    voice_provider: Option<String>,
    /// The seed's flag (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    delete_voice_provider_data: Option<bool>,
    /// Allows consult calls (the spec's default is true; ccadmin fills in no default).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    consult: Option<bool>,
    /// The SIP trunk selected in case of UCCC.
    #[serde(rename = "mpcSIPTrunk", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 50)]
    mpc_sip_trunk: Option<String>,
    /// A custom SIP trunk.
    #[serde(rename = "customSIPTrunk", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 255)]
    custom_sip_trunk: Option<String>,
    /// The emergency call SIP trunk's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 100)]
    emergency_call_sip_trunk: Option<String>,
    /// The Remote-Party-ID SIP header during transfer over a BYOC Hybrid trunk (the
    /// spec's default is false; ccadmin fills in no default).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    remote_party_header: Option<bool>,
}

impl VoiceFeature {
    fn check(&self, at: &str) -> Vec<Violation> {
        let limits = [
            ("cloudSwitchAccountDID", &self.cloud_switch_account_did, 255),
            (
                "cloudSwitchAccountUCID",
                &self.cloud_switch_account_ucid,
                255,
            ),
            ("voiceProvider", &self.voice_provider, 255),
            ("mpcSIPTrunk", &self.mpc_sip_trunk, 50),
            ("customSIPTrunk", &self.custom_sip_trunk, 255),
            ("emergencyCallSipTrunk", &self.emergency_call_sip_trunk, 100),
        ];
        limits
            .into_iter()
            .filter_map(|(name, value, max)| {
                let value = value.as_deref()?;
                check_len(&format!("{at}.{name}"), value, 0, max).err()
            })
            .collect()
    }
}

/// Uniform Communication Services; other members are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub(super) struct UcsFeature {
    /// The provider: ACO, MSTeams or AvayaSpaces (stored as sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 255, example = "ACO")]
    provider: Option<String>,
}

/// The features of an account, keyed in the spec's order. Voice and UCS are typed;
/// the others are free-form objects, as the spec defines them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Features(BTreeMap<Feature, Value>);

impl Features {
    /// Validates the `features` object of a request. Unknown feature names are
    /// rejected: silently dropping a feature someone asked to provision would mislead.
    pub fn parse(at: &str, input: Map<String, Value>) -> Result<Self, Vec<Violation>> {
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for (key, value) in input {
            let field = format!("{at}.{key}");
            let Some(feature) = Feature::parse(&key) else {
                errors.push(Violation::new(
                    field,
                    Code::InvalidValue,
                    format!(
                        "unknown feature; must be one of {}",
                        Feature::ALL.map(Feature::as_str).join(", ")
                    ),
                ));
                continue;
            };
            match normalise(feature, &field, value) {
                Ok(v) => {
                    out.insert(feature, v);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(Self(out))
        } else {
            Err(errors)
        }
    }

    /// The features as a map.
    pub fn as_map(&self) -> &BTreeMap<Feature, Value> {
        &self.0
    }

    /// Features from a map of already validated values.
    pub fn from_map(map: BTreeMap<Feature, Value>) -> Self {
        Self(map)
    }
}

fn typed<T: serde::de::DeserializeOwned + Serialize>(
    field: &str,
    value: Value,
) -> Result<(T, Value), Vec<Violation>> {
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = if inner == "." {
            field.to_owned()
        } else {
            format!("{field}.{inner}")
        };
        vec![Violation::new(
            path,
            Code::InvalidType,
            e.inner().to_string(),
        )]
    })?;
    let normal = serde_json::to_value(&parsed)
        .map_err(|e| vec![Violation::new(field, Code::InvalidType, e.to_string())])?;
    Ok((parsed, normal))
}

fn normalise(feature: Feature, field: &str, value: Value) -> Result<Value, Vec<Violation>> {
    if !value.is_object() {
        return Err(vec![Violation::new(
            field,
            Code::InvalidType,
            "must be an object",
        )]);
    }
    match feature {
        Feature::Voice => {
            let (voice, normal) = typed::<VoiceFeature>(field, value)?;
            let errors = voice.check(field);
            if errors.is_empty() {
                Ok(normal)
            } else {
                Err(errors)
            }
        }
        Feature::Ucs => {
            let (ucs, normal) = typed::<UcsFeature>(field, value)?;
            match ucs
                .provider
                .as_deref()
                .map(|p| check_len(&format!("{field}.provider"), p, 0, 255))
            {
                Some(Err(e)) => Err(vec![e]),
                _ => Ok(normal),
            }
        }
        _ => Ok(value),
    }
}

/// What a write did to one feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Add,
    Update,
    Delete,
}

/// The spec's `FeatureAction.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    InProgress,
    Completed,
    Failed,
    DeleteInProgress,
    Deleted,
    DeleteFailed,
}

/// One `FeatureAction`: what was done, where it stands, and the seed's message for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeatureAction {
    #[schema(inline, example = "ADD")]
    pub action: Action,
    #[schema(inline, example = "COMPLETED")]
    pub status: Status,
    #[schema(example = "Feature added successfully")]
    pub message: String,
}

impl FeatureAction {
    /// A feature change whose provisioning has started.
    pub fn in_progress(action: Action) -> Self {
        let status = match action {
            Action::Delete => Status::DeleteInProgress,
            Action::Add | Action::Update => Status::InProgress,
        };
        Self {
            action,
            status,
            message: IN_PROGRESS_MESSAGE.to_owned(),
        }
    }

    /// A feature change whose provisioning finished successfully.
    pub fn completed(action: Action) -> Self {
        let (status, message) = match action {
            Action::Add => (Status::Completed, "Feature added successfully"),
            Action::Update => (Status::Completed, "Feature updated successfully"),
            Action::Delete => (Status::Deleted, "Feature deleted successfully"),
        };
        Self {
            action,
            status,
            message: message.to_owned(),
        }
    }

    /// A feature change whose provisioning failed for good.
    pub fn failed(action: Action) -> Self {
        let (status, message) = match action {
            Action::Add => (Status::Failed, "The feature could not be added"),
            Action::Update => (Status::Failed, "The feature could not be updated"),
            Action::Delete => (Status::DeleteFailed, "The feature could not be deleted"),
        };
        Self {
            action,
            status,
            message: message.to_owned(),
        }
    }

    /// True while provisioning runs.
    pub fn is_running(&self) -> bool {
        matches!(self.status, Status::InProgress | Status::DeleteInProgress)
    }

    /// True when provisioning failed for good.
    pub fn is_failed(&self) -> bool {
        matches!(self.status, Status::Failed | Status::DeleteFailed)
    }
}

/// The seeds' message while an operation runs.
pub const IN_PROGRESS_MESSAGE: &str = "Operation is in progress";

/// The changes between two feature sets: added, removed and changed features.
pub fn diff(
    old: &BTreeMap<Feature, Value>,
    new: &BTreeMap<Feature, Value>,
) -> BTreeMap<Feature, Action> {
    let mut out = BTreeMap::new();
    for (f, v) in new {
        match old.get(f) {
            None => {
                out.insert(*f, Action::Add);
            }
            Some(o) if o != v => {
                out.insert(*f, Action::Update);
            }
            Some(_) => {}
        }
    }
    for f in old.keys() {
        if !new.contains_key(f) {
            out.insert(*f, Action::Delete);
        }
    }
    out
}

/// The status of an account's latest operation, as `POST /accounts:listStatuses`
/// returns it: `action` is `ADD` for a creation, `UPDATE` for a replacement; `status`
/// is `FAILED` if any part failed, `IN_PROGRESS` while any runs, else `COMPLETED`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AccountStatusResponse)]
pub struct AccountStatus {
    #[schema(inline, example = "UPDATE")]
    pub action: Action,
    #[schema(inline, example = "COMPLETED")]
    pub status: Status,
    #[schema(example = "Completed successfully")]
    pub message: String,
    #[schema(min_length = 6, max_length = 6, example = "ABCDEF")]
    pub account_id: String,
    /// The features the operation added, changed, removed or re-attempted, and any an
    /// earlier operation still provisions; absent when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = AccountFeatureStatus)]
    pub features: BTreeMap<Feature, FeatureAction>,
}

impl AccountStatus {
    /// The status of an operation from the states of its parts: FAILED if any part
    /// failed, IN_PROGRESS while any runs, else COMPLETED (the spec's rule).
    pub fn of_parts(
        account_id: &str,
        action: Action,
        rename: Option<Status>,
        features: BTreeMap<Feature, FeatureAction>,
    ) -> Self {
        let failed =
            features.values().any(FeatureAction::is_failed) || rename == Some(Status::Failed);
        let running =
            features.values().any(FeatureAction::is_running) || rename == Some(Status::InProgress);
        let (status, message) = if failed {
            (Status::Failed, "Operation failed")
        } else if running {
            (Status::InProgress, IN_PROGRESS_MESSAGE)
        } else {
            (Status::Completed, "Completed successfully")
        };
        Self {
            action,
            status,
            message: message.to_owned(),
            account_id: account_id.to_owned(),
            features,
        }
    }
}

/// The string form of a status, as stored and journaled.
pub fn status_str(s: Status) -> &'static str {
    match s {
        Status::InProgress => "IN_PROGRESS",
        Status::Completed => "COMPLETED",
        Status::Failed => "FAILED",
        Status::DeleteInProgress => "DELETE_IN_PROGRESS",
        Status::Deleted => "DELETED",
        Status::DeleteFailed => "DELETE_FAILED",
    }
}

/// The string form of an action, as stored.
pub fn action_str(a: Action) -> &'static str {
    match a {
        Action::Add => "ADD",
        Action::Update => "UPDATE",
        Action::Delete => "DELETE",
    }
}

// Documentation of `AccountStatus::features`.
/// The status of each feature an operation touched.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AccountFeatureStatus {
    #[schema(nullable = false)]
    voice: Option<FeatureAction>,
    #[schema(nullable = false)]
    chat: Option<FeatureAction>,
    #[schema(nullable = false)]
    messaging: Option<FeatureAction>,
    #[schema(nullable = false)]
    email: Option<FeatureAction>,
    #[schema(nullable = false)]
    ucs: Option<FeatureAction>,
    #[schema(nullable = false)]
    recorder: Option<FeatureAction>,
    #[schema(nullable = false)]
    aci: Option<FeatureAction>,
    #[schema(nullable = false)]
    bvr: Option<FeatureAction>,
    #[schema(nullable = false)]
    matching: Option<FeatureAction>,
    #[schema(nullable = false)]
    outbound: Option<FeatureAction>,
    #[schema(nullable = false)]
    cmvoice: Option<FeatureAction>,
    #[schema(nullable = false)]
    automatedoutreach: Option<FeatureAction>,
    #[schema(nullable = false)]
    advancedcmvoice: Option<FeatureAction>,
    #[schema(nullable = false)]
    realtimevoicetranscription: Option<FeatureAction>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn voice_keeps_the_seed_and_spec_fields() {
        let f = Features::parse(
            "features",
            map(
                json!({"voice": {"cloudSwitchAccountDID": "d", "voiceProvider": "UCCC",
                "deleteVoiceProviderData": true, "consult": true, "mpcSIPTrunk": "t"}}),
            ),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"voice": {"cloudSwitchAccountDID": "d", "voiceProvider": "UCCC",
                "deleteVoiceProviderData": true, "consult": true, "mpcSIPTrunk": "t"}})
        );
    }

    #[test]
    fn a_wrongly_typed_voice_field_is_named() {
        let e = Features::parse("features", map(json!({"voice": {"consult": "yes"}}))).unwrap_err();
        assert_eq!(e[0].field, "features.voice.consult");
        assert_eq!(e[0].code, Code::InvalidType);
    }

    #[test]
    fn an_unknown_feature_is_rejected() {
        let e = Features::parse("features", map(json!({"telepathy": {}}))).unwrap_err();
        assert_eq!(e[0].field, "features.telepathy");
    }

    #[test]
    fn an_operation_fails_if_any_part_failed_and_runs_while_any_runs() {
        let f = |a: FeatureAction| {
            BTreeMap::from([
                (Feature::Voice, FeatureAction::completed(Action::Add)),
                (Feature::Chat, a),
            ])
        };
        let s = AccountStatus::of_parts(
            "A",
            Action::Update,
            None,
            f(FeatureAction::failed(Action::Add)),
        );
        assert_eq!(
            (s.status, s.message.as_str()),
            (Status::Failed, "Operation failed")
        );
        let s = AccountStatus::of_parts(
            "A",
            Action::Update,
            None,
            f(FeatureAction::in_progress(Action::Delete)),
        );
        assert_eq!(s.status, Status::InProgress);
        let s = AccountStatus::of_parts(
            "A",
            Action::Update,
            Some(Status::Completed),
            f(FeatureAction::completed(Action::Delete)),
        );
        assert_eq!(
            (s.status, s.message.as_str()),
            (Status::Completed, "Completed successfully")
        );
        let s = AccountStatus::of_parts("A", Action::Update, Some(Status::Failed), BTreeMap::new());
        assert_eq!(s.status, Status::Failed);
    }

    #[test]
    fn diff_finds_added_changed_and_removed_features() {
        let old = BTreeMap::from([(Feature::Voice, json!({})), (Feature::Chat, json!({}))]);
        let new = BTreeMap::from([
            (Feature::Voice, json!({"consult": true})),
            (Feature::Email, json!({})),
        ]);
        let d = diff(&old, &new);
        assert_eq!(d[&Feature::Voice], Action::Update);
        assert_eq!(d[&Feature::Email], Action::Add);
        assert_eq!(d[&Feature::Chat], Action::Delete);
    }
}
