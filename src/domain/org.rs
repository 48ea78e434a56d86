//! Organization nodes and profiles.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::account::ProfileRef;
use super::schemas::{NodeProfileReference, NodeType};
use super::violation::{Code, Violation, Violations, check_len, check_max_items};

/// The spec's pattern for node names.
pub const NODE_NAME_PATTERN: &str =
    r"^(?=.*[a-zA-Z0-9\p{L}])[a-zA-Z0-9\p{L}(){};,'+&\[\]\-\_\.\ ]+$";

static NODE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z0-9\p{L}(){};,'+&\[\]\-_. ]+$")
        .expect("the node name pattern is a valid regex")
});
static HAS_ALNUM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[a-zA-Z0-9\p{L}]").expect("the alphanumeric class is a valid regex")
});

/// The `nodeType` of every organization node.
pub const NODE_TYPE: &str = "OrganizationNode";

/// A profile reference as sent: only the id counts; `url` and `name` are read-only.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NodeProfileReferenceRequest)]
pub struct ProfileRefIn {
    /// A profile of the account (its `url` and `name`, if sent, are ignored).
    #[schema(
        required = true,
        nullable = false,
        min_length = 6,
        max_length = 6,
        example = "N3ZW63"
    )]
    pub profile_id: Option<String>,
}

/// Checks a list of profile references' form; existence is checked in the account.
pub fn check_profile_refs(v: &mut Violations, refs: &[ProfileRefIn], max: usize) -> Vec<String> {
    v.check(check_max_items("profiles", refs.len(), max));
    let mut ids = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let field = format!("profiles[{i}].profileId");
        match &r.profile_id {
            None => v.push(Violation::required(field)),
            Some(id) => {
                if v.check(check_len(&field, id, 6, 6)).is_some() {
                    ids.push(id.clone());
                }
            }
        }
    }
    ids
}

/// A node as a client sends it (POST or PUT); read-only fields are ignored.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrganizationNodeRequest)]
pub struct NodeIn {
    /// Unique in the account, ignoring case (409 otherwise).
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"^(?=.*[a-zA-Z0-9\p{L}])[a-zA-Z0-9\p{L}(){};,'+&\[\]\-\_\.\ ]+$",
        example = "PuneLocation"
    )]
    name: Option<String>,
    /// The full path of the parent: `Account` and the account's name (`AccountSyncG`),
    /// then each node's name from the top, joined by `/` (none empty); the root alone
    /// places the node directly under the account. The account's bare name (`SyncG`,
    /// `SyncG/PuneLocation`) is accepted as the root too. No node with this path is 404.
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 1024,
        example = "AccountSyncG"
    )]
    parent_path: Option<String>,
    #[schema(nullable = false, min_length = 2, max_length = 2, example = "IN")]
    country_code: Option<String>,
    /// Profiles of the account, by id.
    #[schema(nullable = false, max_items = 200)]
    profiles: Option<Vec<ProfileRefIn>>,
}

/// A validated node request. The parent path and profiles are resolved against the
/// account by the service.
#[derive(Debug, Clone)]
pub struct NodeRequest {
    pub name: String,
    pub parent_path: String,
    pub country_code: Option<String>,
    pub profile_ids: Vec<String>,
}

impl TryFrom<NodeIn> for NodeRequest {
    type Error = Vec<Violation>;

    fn try_from(input: NodeIn) -> Result<Self, Self::Error> {
        let mut v = Violations::new();
        match &input.name {
            None => v.push(Violation::required("name")),
            Some(n) => {
                if v.check(check_len("name", n, 1, 255)).is_some()
                    && !(NODE_NAME.is_match(n) && HAS_ALNUM.is_match(n))
                {
                    v.push(Violation::pattern("name", NODE_NAME_PATTERN));
                }
            }
        }
        match &input.parent_path {
            None => v.push(Violation::required("parentPath")),
            Some(p) => {
                if v.check(check_len("parentPath", p, 1, 1024)).is_some()
                    && p.split('/').any(str::is_empty)
                {
                    v.push(Violation::new(
                        "parentPath",
                        Code::InvalidValue,
                        "must be names separated by '/'",
                    ));
                }
            }
        }
        if let Some(c) = &input.country_code {
            v.check(check_len("countryCode", c, 2, 2));
        }
        let profile_ids =
            check_profile_refs(&mut v, input.profiles.as_deref().unwrap_or_default(), 200);
        v.finish(|| NodeRequest {
            name: input.name.unwrap_or_default(),
            parent_path: input.parent_path.unwrap_or_default(),
            country_code: input.country_code,
            profile_ids,
        })
    }
}

/// A stored node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub node_id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub country_code: Option<String>,
}

/// What every path starts with before the account's name, as the seeds write it: the
/// root of account `SyncG`'s hierarchy is `AccountSyncG`.
pub const ROOT_PREFIX: &str = "Account";

/// The hierarchy of one account: paths are derived from parents, so a rename or a
/// move changes every path below it without rewriting anything.
pub struct Hierarchy<'a> {
    /// The account's name, the root as paths written before the seed's form name it.
    account: &'a str,
    /// `Account<name>`, the root of every path the API shows.
    root: String,
    nodes: HashMap<&'a str, &'a Node>,
    children: HashMap<Option<&'a str>, Vec<&'a Node>>,
}

impl<'a> Hierarchy<'a> {
    /// The hierarchy of `nodes` under the account named `account`.
    pub fn new(account: &'a str, nodes: &'a [Node]) -> Self {
        let mut children: HashMap<Option<&str>, Vec<&Node>> = HashMap::new();
        for n in nodes {
            children.entry(n.parent_id.as_deref()).or_default().push(n);
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Self {
            account,
            root: format!("{ROOT_PREFIX}{account}"),
            nodes: nodes.iter().map(|n| (n.node_id.as_str(), n)).collect(),
            children,
        }
    }

    /// The full path of a node: `Account<name>`, then every ancestor, then the node.
    pub fn path(&self, id: &str) -> String {
        let mut names = Vec::new();
        let mut at = self.nodes.get(id).copied();
        // Bounded by the node count, so a corrupt cycle cannot loop forever.
        while let Some(n) = at.filter(|_| names.len() <= self.nodes.len()) {
            names.push(n.name.as_str());
            at = n
                .parent_id
                .as_deref()
                .and_then(|p| self.nodes.get(p).copied());
        }
        names.push(&self.root);
        names.reverse();
        names.join("/")
    }

    /// The parent path of a node (`Account<name>` directly under the account).
    pub fn parent_path(&self, node: &Node) -> String {
        match &node.parent_id {
            None => self.root.clone(),
            Some(p) => self.path(p),
        }
    }

    /// A path as sent, in the form the API answers with, or `None` when it does not
    /// start at this account. The first name is the root, since account names hold no
    /// `/`: `Account<name>` (the seeds' form) or the account's bare name (the form
    /// ccadmin answered with before, still accepted). Both are compared with the
    /// account's current name exactly, so they never both match: an account named
    /// `AccountX` is `AccountAccountX` or `AccountX`, never an account `X`; and a
    /// first name is never read as a node, even one named `Account<name>`.
    pub fn in_seed_form(&self, path: &str) -> Option<String> {
        let (first, rest) = match path.split_once('/') {
            Some((first, rest)) => (first, Some(rest)),
            None => (path, None),
        };
        if first != self.root && first != self.account {
            return None;
        }
        Some(match rest {
            None => self.root.clone(),
            Some(rest) => format!("{}/{rest}", self.root),
        })
    }

    /// The full paths of every node below `id`, depth first, siblings by name.
    pub fn descendants(&self, id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack: Vec<&Node> = self.children.get(&Some(id)).cloned().unwrap_or_default();
        stack.reverse();
        while let Some(n) = stack.pop() {
            if out.len() > self.nodes.len() {
                break;
            }
            out.push(self.path(&n.node_id));
            let mut kids = self
                .children
                .get(&Some(n.node_id.as_str()))
                .cloned()
                .unwrap_or_default();
            kids.reverse();
            stack.extend(kids);
        }
        out
    }

    /// True when `id` is `ancestor` or below it.
    pub fn is_within(&self, id: &str, ancestor: &str) -> bool {
        let mut at = Some(id);
        let mut steps = 0;
        while let Some(cur) = at {
            if cur == ancestor {
                return true;
            }
            steps += 1;
            if steps > self.nodes.len() {
                return false;
            }
            at = self.nodes.get(cur).and_then(|n| n.parent_id.as_deref());
        }
        false
    }

    /// Resolves a parent path in either form of its root ([`Self::in_seed_form`]):
    /// `None` for the account itself, `Some(id)` for a node, `Err` when no node has
    /// that path.
    pub fn resolve(&self, path: &str) -> Result<Option<String>, NoSuchPath> {
        let path = self.in_seed_form(path).ok_or(NoSuchPath)?;
        if path == self.root {
            return Ok(None);
        }
        let last = path.rsplit('/').next().unwrap_or(&path);
        // Names are unique in the account: the last name picks the node, and its full
        // path must be the one given.
        self.nodes
            .values()
            .find(|n| n.name.eq_ignore_ascii_case(last) && self.path(&n.node_id) == path)
            .map(|n| Some(n.node_id.clone()))
            .ok_or(NoSuchPath)
    }
}

/// No node has the parent path asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no node has this path")]
pub struct NoSuchPath;

/// A node as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrganizationNode)]
pub struct NodeOut {
    #[schema(example = "PuneLocation")]
    pub name: String,
    /// The full path of the parent, starting with `Account` and the account's name.
    #[schema(example = "AccountSyncG")]
    pub parent_path: String,
    #[schema(min_length = 6, max_length = 6, example = "ACDSFE")]
    pub organization_node_id: String,
    #[schema(example = "/api/admin/account/v1/accounts/AQWSDE/organization-nodes/ACDSFE")]
    pub url: String,
    /// The full paths of every node below, depth first, siblings by name (`[]` for a
    /// leaf); absent unless asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = json!(["AccountSyncG/PuneLocation/Team"]))]
    pub children: Option<Vec<String>>,
    /// The referenced profiles; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<NodeProfileReference>)]
    pub profiles: Vec<ProfileRef>,
    #[schema(min_length = 6, max_length = 6, example = "AQWSDE")]
    pub account_id: String,
    #[schema(value_type = NodeType)]
    pub node_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_length = 2, max_length = 2, example = "IN")]
    pub country_code: Option<String>,
}

/// A profile as sent to the profile extension.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserProfileRequest)]
pub struct ProfileIn {
    /// No control characters; unique in the account, ignoring case (409 otherwise).
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 255,
        example = "Sales Agents"
    )]
    profile_name: Option<String>,
    #[schema(nullable = false, max_length = 1024, example = "Agents of sales")]
    description: Option<String>,
}

/// A validated profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileBody {
    pub profile_name: String,
    pub description: Option<String>,
}

impl TryFrom<ProfileIn> for ProfileBody {
    type Error = Vec<Violation>;

    fn try_from(input: ProfileIn) -> Result<Self, Self::Error> {
        let mut v = Violations::new();
        match &input.profile_name {
            None => v.push(Violation::required("profileName")),
            Some(n) => {
                if v.check(check_len("profileName", n, 1, 255)).is_some()
                    && n.chars().any(char::is_control)
                {
                    v.push(Violation::new(
                        "profileName",
                        Code::InvalidValue,
                        "must not contain control characters",
                    ));
                }
            }
        }
        if let Some(d) = &input.description {
            v.check(check_len("description", d, 0, 1024));
        }
        v.finish(|| ProfileBody {
            profile_name: input.profile_name.unwrap_or_default(),
            description: input.description,
        })
    }
}

/// The URL of a profile of the user API.
pub fn profile_url(account: &str, profile_id: &str) -> String {
    format!("/api/admin/user/v1/accounts/{account}/profiles/{profile_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, name: &str, parent: Option<&str>) -> Node {
        Node {
            node_id: id.into(),
            name: name.into(),
            parent_id: parent.map(Into::into),
            country_code: None,
        }
    }

    fn seed_tree() -> Vec<Node> {
        vec![
            node("AAAAAA", "Pune", None),
            node("BBBBBB", "Team", Some("AAAAAA")),
            node("CCCCCC", "Desk", Some("BBBBBB")),
        ]
    }

    #[test]
    fn paths_start_with_account_and_the_account_name() {
        let nodes = seed_tree();
        let h = Hierarchy::new("SyncG", &nodes);
        assert_eq!(h.path("CCCCCC"), "AccountSyncG/Pune/Team/Desk");
        assert_eq!(h.parent_path(&nodes[0]), "AccountSyncG");
        assert_eq!(h.parent_path(&nodes[1]), "AccountSyncG/Pune");
        assert_eq!(
            h.descendants("AAAAAA"),
            ["AccountSyncG/Pune/Team", "AccountSyncG/Pune/Team/Desk"]
        );
        assert!(h.is_within("CCCCCC", "AAAAAA"));
        assert!(!h.is_within("AAAAAA", "CCCCCC"));
    }

    #[test]
    fn a_parent_path_resolves_in_the_seed_form_and_the_bare_form() {
        let nodes = seed_tree();
        let h = Hierarchy::new("SyncG", &nodes);
        assert_eq!(h.resolve("AccountSyncG"), Ok(None));
        assert_eq!(h.resolve("SyncG"), Ok(None));
        assert_eq!(
            h.resolve("AccountSyncG/Pune/Team"),
            Ok(Some("BBBBBB".into()))
        );
        assert_eq!(h.resolve("SyncG/Pune/Team"), Ok(Some("BBBBBB".into())));
        assert_eq!(
            h.in_seed_form("SyncG/Pune/Team").as_deref(),
            Some("AccountSyncG/Pune/Team")
        );
        assert_eq!(h.resolve("AccountSyncG/Team"), Err(NoSuchPath));
        // Exact, case included, and no other root.
        for path in [
            "accountSyncG",
            "ACCOUNTSyncG/Pune",
            "Account",
            "syncg",
            "Pune",
        ] {
            assert_eq!(h.resolve(path), Err(NoSuchPath), "{path}");
        }
    }

    #[test]
    fn an_account_named_like_a_seed_root_is_read_by_its_actual_name() {
        let nodes = seed_tree();
        let h = Hierarchy::new("AccountX", &nodes);
        assert_eq!(h.parent_path(&nodes[0]), "AccountAccountX");
        assert_eq!(h.resolve("AccountAccountX/Pune"), Ok(Some("AAAAAA".into())));
        assert_eq!(h.resolve("AccountX/Pune"), Ok(Some("AAAAAA".into())));
        // Never the seed form of an account named `X`.
        assert_eq!(h.resolve("X/Pune"), Err(NoSuchPath));
    }

    #[test]
    fn a_first_name_is_the_root_even_when_a_node_is_named_like_it() {
        let nodes = vec![
            node("AAAAAA", "AccountSyncG", None),
            node("BBBBBB", "SyncG", Some("AAAAAA")),
        ];
        let h = Hierarchy::new("SyncG", &nodes);
        assert_eq!(h.resolve("AccountSyncG"), Ok(None));
        assert_eq!(h.resolve("SyncG"), Ok(None));
        assert_eq!(
            h.resolve("AccountSyncG/AccountSyncG"),
            Ok(Some("AAAAAA".into()))
        );
        assert_eq!(h.resolve("SyncG/AccountSyncG"), Ok(Some("AAAAAA".into())));
        assert_eq!(
            h.resolve("SyncG/AccountSyncG/SyncG"),
            Ok(Some("BBBBBB".into()))
        );
        assert_eq!(h.path("BBBBBB"), "AccountSyncG/AccountSyncG/SyncG");
    }

    #[test]
    fn node_names_follow_the_spec_pattern() {
        let ok: NodeIn = serde_json::from_value(
            serde_json::json!({"name": "Pune (HQ) & Co.", "parentPath": "AccountSyncG"}),
        )
        .unwrap();
        assert!(NodeRequest::try_from(ok).is_ok());
        let bad: NodeIn = serde_json::from_value(
            serde_json::json!({"name": "a/b", "parentPath": "AccountSyncG//x"}),
        )
        .unwrap();
        let e = NodeRequest::try_from(bad).unwrap_err();
        assert_eq!(
            e.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(),
            ["name", "parentPath"]
        );
    }
}
