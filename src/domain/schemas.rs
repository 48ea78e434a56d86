//! Types that exist only to be described in `/openapi.json`: the shapes and value lists
//! of domain bodies whose fields are validated or written as strings and maps (the
//! rules and constants they document are named on each). Nothing constructs them, hence
//! `allow(dead_code)`.
//!
//! The HTTP modules' documentation-only types are in `http::schemas`; these
//! are here because the domain's bodies name them and layers point down.

use serde::Serialize;
use serde_json::Value;

use super::feature::{UcsFeature, VoiceFeature};

// Documentation of what `Features::parse` accepts and `Features` serializes.
/// The features of an account, each an object: `voice` and `ucs` have known members;
/// the others are free-form objects, kept as sent. Other names are refused (400).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AccountFeatures {
    #[schema(nullable = false)]
    voice: Option<VoiceFeature>,
    /// Digital channel feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    chat: Option<Value>,
    /// Digital channel feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    messaging: Option<Value>,
    /// Digital channel feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    email: Option<Value>,
    #[schema(nullable = false)]
    ucs: Option<UcsFeature>,
    /// Recorder feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    recorder: Option<Value>,
    /// ACI (Avaya Conversational Intelligence) feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    aci: Option<Value>,
    /// BVR (Basic Voice Recorder) feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    bvr: Option<Value>,
    /// Matching feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    matching: Option<Value>,
    /// Outbound feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    outbound: Option<Value>,
    /// Communication Manager voice feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    cmvoice: Option<Value>,
    /// Automated outreach feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    automatedoutreach: Option<Value>,
    /// Advanced Communication Manager voice feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    advancedcmvoice: Option<Value>,
    /// Realtime voice transcription feature.
    #[schema(nullable = false, value_type = Option<Object>)]
    realtimevoicetranscription: Option<Value>,
}

// Documentation of `ADDRESS_TYPES`.
/// The address types the spec enumerates.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub enum AddressType {
    OFFICE,
    APARTMENT,
    BASEMENT,
    BUILDING,
    DEPARTMENT,
    FLOOR,
    FRONT,
    KEY,
    LOBBY,
    LOT,
    LOWER,
    PENTHOUSE,
    PIER,
    REAR,
    ROOM,
    SIDE,
    SLIP,
    SPACE,
    STOP,
    SUITE,
    TRAILER,
    UNIT,
    UPPER,
}

// Documentation of `RECORD_TYPE`.
/// The type of audited object: always `ACCOUNT` (`auditData.resource` names the
/// object).
#[derive(utoipa::ToSchema)]
#[schema(as = AuditRecordType)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub enum RecordType {
    ACCOUNT,
}

/// A DID number in E.164 form (documentation of the items of `didNumbers`; the
/// server also refuses more than 13 characters and numbers no numbering plan has).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, pattern = r"^\+[1-9]\d{3,13}$", example = "+16062128688")]
#[allow(dead_code)]
pub struct DidNumber(String);

/// The type of an available number.
// Documentation of the types `NumberType::parse_inventory` takes.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
#[schema(example = "LOCAL")]
pub enum AvailableNumberType {
    LOCAL,
    TOLLFREE,
}

/// The `nodeType` of every node (documentation).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum NodeType {
    OrganizationNode,
}

/// A profile reference as a node shows it, always with its `url` and the profile's
/// current `name` (documentation of the references of a node's answer).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct NodeProfileReference {
    #[schema(min_length = 6, max_length = 6, example = "N3ZW63")]
    profile_id: String,
    /// The profile in the user API.
    #[schema(example = "/api/admin/user/v1/accounts/AQWSDE/profiles/N3ZW63")]
    url: String,
    /// The profile's current name.
    #[schema(example = "profileVoice")]
    name: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::feature::{AccountFeatureStatus, Feature};

    #[test]
    fn the_documented_features_are_the_known_ones() {
        let names: Vec<&str> = Feature::ALL.map(Feature::as_str).to_vec();
        for schema in [
            serde_json::to_value(<AccountFeatures as utoipa::PartialSchema>::schema()).unwrap(),
            serde_json::to_value(<AccountFeatureStatus as utoipa::PartialSchema>::schema())
                .unwrap(),
        ] {
            let documented: Vec<&str> = schema["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(documented, names);
            assert_eq!(schema["additionalProperties"], json!(false));
        }
    }
}
