//! Voice elements: Avaya Cloud Office and Microsoft Teams.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::account::check_domain_name;
use super::phone::E164;
use super::schemas::DidNumber;
use super::violation::{Code, Violation, Violations, check_len, check_max_items};

/// The spec's pattern for element names.
pub const NAME_PATTERN: &str = r"^[a-zA-Z0-9\p{L}\-\_\.\ ]+$";
/// The spec's pattern for element descriptions.
pub const DESCRIPTION_PATTERN: &str = r"(^$|^[a-zA-Z0-9\p{L}\(\)\-\_\.\ ]+$)";
/// didNumbers items are at most this long (the spec's `maxLength`).
pub const DID_MAX_LEN: usize = 13;

static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z0-9\p{L}\-_. ]+$").expect("the element name pattern is a valid regex")
});
static DESCRIPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z0-9\p{L}()\-_. ]*$")
        .expect("the element description pattern is a valid regex")
});

/// The two kinds of element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ElementType {
    #[serde(rename = "ACO")]
    Aco,
    #[serde(rename = "MSTeams")]
    MsTeams,
}

impl ElementType {
    /// The `elementType` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ElementType::Aco => "ACO",
            ElementType::MsTeams => "MSTeams",
        }
    }

    /// Parses a stored `elementType`.
    pub fn parse(s: &str) -> Option<Self> {
        [ElementType::Aco, ElementType::MsTeams]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// The product's name, as the spec's messages use it.
    pub fn product(self) -> &'static str {
        match self {
            ElementType::Aco => "Avaya Cloud Office",
            ElementType::MsTeams => "MS Teams",
        }
    }

    /// The spec's 409 violation message for a taken name.
    pub fn name_taken_message(self) -> &'static str {
        match self {
            ElementType::Aco => "An Avaya Cloud Office with this name already exists",
            ElementType::MsTeams => "A MS Teams with this name already exists",
        }
    }

    /// The URL segment of this type.
    pub fn path(self) -> &'static str {
        match self {
            ElementType::Aco => "aco-elements",
            ElementType::MsTeams => "msteams-elements",
        }
    }
}

/// The writable fields of an element, validated, defaults applied. A PUT replaces them
/// whole: what it omits is removed (or back to its default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ElementBody {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    /// ACO only: `Production` or `Development`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<String>)]
    pub environment: Option<Environment>,
    /// MS Teams only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub domain: Option<String>,
    pub did_numbers: Vec<String>,
    pub is_chat_enabled: bool,
    /// ACO only (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub is_extension_calling: Option<bool>,
    /// ACO only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub presence_application_type: Option<String>,
    /// MS Teams only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub client_id: Option<String>,
}

impl ElementBody {
    /// The lower-cased name that per-account uniqueness is decided on.
    pub fn name_key(&self) -> String {
        self.name.to_lowercase()
    }
}

/// An element as a client sends it; read-only fields (`elementId`, `elementType`,
/// `status`, `statusMessage`) and fields of the other type are ignored.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ElementRequest)]
pub struct ElementIn {
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"^[a-zA-Z0-9\p{L}\-\_\.\ ]+$",
        example = "Avaya Cloud Office"
    )]
    name: Option<String>,
    #[schema(
        nullable = false,
        max_length = 1024,
        pattern = r"(^$|^[a-zA-Z0-9\p{L}\(\)\-\_\.\ ]+$)"
    )]
    description: Option<String>,
    /// Required for an Avaya Cloud Office element; ignored for MS Teams.
    #[schema(nullable = false, value_type = Option<Environment>)]
    environment: Option<String>,
    /// MS Teams only.
    #[schema(
        nullable = false,
        min_length = 3,
        max_length = 255,
        pattern = r"^((?!-)[A-Za-z0-9\p{L}-]{1,63}(?<!-)\.)+[A-Za-z\p{L}]{2,63}$",
        example = "exchange.com"
    )]
    domain: Option<String>,
    /// The element's DID numbers in E.164 form, each at most once.
    #[schema(nullable = false, max_items = 2000, value_type = Option<Vec<DidNumber>>, example = json!(["+16062128688", "+12702289911"]))]
    did_numbers: Option<Vec<Option<String>>>,
    /// Default `true`.
    #[schema(nullable = false, default = true)]
    is_chat_enabled: Option<bool>,
    /// Avaya Cloud Office only; default `false`.
    #[schema(nullable = false, default = false)]
    is_extension_calling: Option<bool>,
    /// Avaya Cloud Office only.
    #[schema(nullable = false, value_type = Option<PresenceApplicationType>)]
    presence_application_type: Option<String>,
    /// MS Teams only.
    #[schema(nullable = false, max_length = 255)]
    client_id: Option<String>,
}

// Its doc comment is the schema's description in `/openapi.json`.
/// The environments of an Avaya Cloud Office element (documentation of `environment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Environment {
    Production,
    Development,
}

impl Environment {
    /// Every environment, in the order messages list them.
    pub const ALL: [Environment; 2] = [Environment::Production, Environment::Development];

    /// The wire name, as the schema's `enum` lists it (the variant's name).
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "Production",
            Environment::Development => "Development",
        }
    }

    /// Parses a wire name, case-sensitive.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// The presence application of an Avaya Cloud Office element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum PresenceApplicationType {
    AVAYA_CLOUD_OFFICE,
    AVAYA_CLOUD_PHONE,
}

impl PresenceApplicationType {
    /// Every value, in the order messages list them.
    pub const ALL: [PresenceApplicationType; 2] = [
        PresenceApplicationType::AVAYA_CLOUD_OFFICE,
        PresenceApplicationType::AVAYA_CLOUD_PHONE,
    ];

    /// The wire name, as the schema's `enum` lists it (the variant's name).
    pub fn as_str(self) -> &'static str {
        match self {
            PresenceApplicationType::AVAYA_CLOUD_OFFICE => "AVAYA_CLOUD_OFFICE",
            PresenceApplicationType::AVAYA_CLOUD_PHONE => "AVAYA_CLOUD_PHONE",
        }
    }
}

fn one_of(v: &mut Violations, field: &str, value: &str, allowed: &[&str]) {
    if !allowed.contains(&value) {
        v.push(Violation::new(
            field,
            Code::InvalidValue,
            format!("must be one of {}", allowed.join(", ")),
        ));
    }
}

impl ElementIn {
    /// Validates the body for an element of type `t`, collecting every violation.
    pub fn validate(self, t: ElementType) -> Result<ElementBody, Vec<Violation>> {
        let mut v = Violations::new();
        match &self.name {
            None => v.push(Violation::required("name")),
            Some(n) => {
                if v.check(check_len("name", n, 1, 255)).is_some() && !NAME.is_match(n) {
                    v.push(Violation::pattern("name", NAME_PATTERN));
                }
            }
        }
        if let Some(d) = &self.description
            && v.check(check_len("description", d, 0, 1024)).is_some()
            && !DESCRIPTION.is_match(d)
        {
            v.push(Violation::pattern("description", DESCRIPTION_PATTERN));
        }
        let dids = self.did_numbers.unwrap_or_default();
        v.check(check_max_items("didNumbers", dids.len(), 2000));
        let mut seen = std::collections::HashSet::new();
        let mut did_numbers = Vec::with_capacity(dids.len());
        for (i, d) in dids.into_iter().enumerate() {
            let field = format!("didNumbers[{i}]");
            match d {
                None => v.push(Violation::required(field)),
                Some(d) => {
                    if v.check(E164::parse(&field, &d, DID_MAX_LEN)).is_some()
                        && !seen.insert(d.clone())
                    {
                        v.push(Violation::new(
                            field,
                            Code::Duplicate,
                            "must be unique within the element",
                        ));
                    }
                    did_numbers.push(d);
                }
            }
        }
        let (mut environment, mut domain, mut extension, mut presence, mut client_id) =
            (None, None, None, None, None);
        match t {
            ElementType::Aco => {
                match &self.environment {
                    None => v.push(Violation::required("environment")),
                    Some(e) => one_of(
                        &mut v,
                        "environment",
                        e,
                        &Environment::ALL.map(Environment::as_str),
                    ),
                }
                if let Some(p) = &self.presence_application_type {
                    one_of(
                        &mut v,
                        "presenceApplicationType",
                        p,
                        &PresenceApplicationType::ALL.map(PresenceApplicationType::as_str),
                    );
                }
                environment = self.environment.as_deref().and_then(Environment::parse);
                extension = Some(self.is_extension_calling.unwrap_or(false));
                presence = self.presence_application_type;
            }
            ElementType::MsTeams => {
                if let Some(d) = &self.domain {
                    v.check(check_domain_name("domain", d));
                }
                if let Some(c) = &self.client_id {
                    v.check(check_len("clientId", c, 0, 255));
                }
                domain = self.domain;
                client_id = self.client_id;
            }
        }
        v.finish(|| ElementBody {
            name: self.name.unwrap_or_default(),
            description: self.description,
            environment,
            domain,
            did_numbers,
            is_chat_enabled: self.is_chat_enabled.unwrap_or(true),
            is_extension_calling: extension,
            presence_application_type: presence,
            client_id,
        })
    }
}

/// An element's provisioning status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ElementStatus {
    InProgress,
    Success,
    Failed,
}

impl ElementStatus {
    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ElementStatus::InProgress => "IN_PROGRESS",
            ElementStatus::Success => "SUCCESS",
            ElementStatus::Failed => "FAILED",
        }
    }
}

/// A stored element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub element_id: String,
    pub element_type: ElementType,
    pub body: ElementBody,
    pub status: ElementStatus,
    pub status_message: Option<String>,
}

/// An element as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Element)]
pub struct ElementOut<'a> {
    #[schema(example = "c8c2909d-75e9-484a-94c0-b7e8d29771fe")]
    element_id: &'a str,
    #[serde(flatten)]
    body: &'a ElementBody,
    #[schema(value_type = ElementType)]
    element_type: &'static str,
    #[schema(value_type = ElementStatus)]
    status: &'static str,
    /// Why the last change failed, or what it is waiting for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    status_message: Option<&'a str>,
}

impl Element {
    /// The representation the API answers with.
    pub fn to_out(&self) -> ElementOut<'_> {
        ElementOut {
            element_id: &self.element_id,
            body: &self.body,
            element_type: self.element_type.as_str(),
            status: self.status.as_str(),
            status_message: self.status_message.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(t: ElementType, v: serde_json::Value) -> Result<ElementBody, Vec<Violation>> {
        serde_json::from_value::<ElementIn>(v).unwrap().validate(t)
    }

    #[test]
    fn the_seeds_aco_body_is_valid_with_defaults_applied() {
        let b = parse(
            ElementType::Aco,
            json!({"description": "Avaya Cloud Office Description",
            "name": "Avaya Cloud Office", "environment": "Production",
            "didNumbers": ["+16062128688", "+12702289911"]}),
        )
        .unwrap();
        assert!(b.is_chat_enabled);
        assert_eq!(b.is_extension_calling, Some(false));
    }

    #[test]
    fn the_documented_environments_are_the_parsed_ones() {
        let schema = serde_json::to_value(<Environment as utoipa::PartialSchema>::schema())
            .expect("a schema serializes");
        assert_eq!(
            schema["enum"],
            json!(Environment::ALL.map(Environment::as_str))
        );
        for e in Environment::ALL {
            assert_eq!(Environment::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), json!(e.as_str()));
        }
        let e = parse(
            ElementType::Aco,
            json!({"name": "x", "environment": "production"}),
        )
        .unwrap_err();
        assert_eq!(e[0].message, "must be one of Production, Development");
    }

    #[test]
    fn aco_needs_an_environment_and_teams_does_not() {
        let e = parse(ElementType::Aco, json!({"name": "x"})).unwrap_err();
        assert_eq!(e[0].field, "environment");
        assert!(
            parse(
                ElementType::MsTeams,
                json!({"name": "x", "environment": "Nowhere"})
            )
            .is_ok()
        );
    }

    #[test]
    fn did_number_violations_name_the_item() {
        let e = parse(
            ElementType::MsTeams,
            json!({"name": "x",
            "didNumbers": ["+16062128688", "+16062128688", "12", "+1647930880412"]}),
        )
        .unwrap_err();
        let got: Vec<_> = e
            .iter()
            .map(|v| (v.field.as_str(), v.code.as_i32()))
            .collect();
        assert_eq!(
            got,
            [
                ("didNumbers[1]", 20008),
                ("didNumbers[2]", 20006),
                ("didNumbers[3]", 20003)
            ]
        );
    }
}
