//! Hostile callers and hostile input on every operation the server routes.
//!
//! [`OPS`] is the table of operations, as data: method, path template, a valid body,
//! the role it needs and the status a valid request gets. It is checked against the
//! routers under `src/http` (a route added there fails
//! `the_table_covers_every_route_and_its_valid_requests_succeed` until it is added
//! here), and each entry's valid request is replayed by the right caller.
//!
//! The walks:
//! - `every_operation_refuses_every_wrong_caller`: no token, forged, tampered,
//!   malformed and expired tokens, wrong appkeys, a revoked client (401), another
//!   account's Account Administrator (403), an Account Administrator on Administrator
//!   operations (403), and the token endpoint's own wrong callers; afterwards the
//!   victim account's resources are exactly as before.
//! - `every_operation_refuses_hostile_paths_queries_and_foreign_ids`: SQL injection,
//!   path traversal, NUL, invalid UTF-8 and oversized values in every path id; hostile
//!   filters, orders and pages on every list; the victim's ids on the attacker's paths.
//! - `every_operation_refuses_hostile_bodies`: wrong media types, empty, malformed,
//!   oversized (413) and deeply nested JSON, wrongly typed fields, and unicode, SQL and
//!   traversal edge values in every name-like field, accepted or refused exactly as
//!   the rules say.
//!
//! Every answer is checked: never 5xx, and every 4xx is `application/problem+json`
//! whose `status` is the HTTP status (400s with `violations` of field, message, code).
//! Answers to the attacker never carry the victim's data. A walk does not stop at the
//! first broken expectation: it fails at its end, listing them all.
//!
//! Server bugs these walks found, all fixed since; each case where one was found is
//! marked `Found:` and asserts the correct behaviour, so it would come back as a
//! failure:
//! 1. JSON bodies followed by more text (`{…} trailing`, `{…}{…}`) were read as the
//!    first value and the operation ran (`Body::json`/`json_array` now read to the
//!    end of the input).
//! 2. An unknown (ignored) member was skipped unchecked: invalid UTF-8 and 10,000
//!    levels of nesting inside it were accepted and the operation ran.
//! 3. A NUL byte in free text reached the database: a 500 on PostgreSQL (filters,
//!    query parameters, ids, batch items, `displayName`, profile `description`,
//!    token `client_id`/`username`), and on SQLite too for the audit `searchKeyword`
//!    (FTS5 `MATCH`). The extractors now refuse NUL with a 400 naming the field.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use base64::Engine;
use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{
    Backend, Creds, TestApp, normalise_template, routed_operations, spawn_app, status_json,
};

/// Who an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// No authentication (operations endpoints).
    Public,
    /// The token endpoint: the client's own credentials in the form, its `appkey`.
    Client,
    /// An Account Administrator of the account in the path (or an Administrator).
    AccountAdmin,
    /// Administrators only.
    Admin,
}

/// A valid request body, as a template whose `{placeholder}`s are filled from a [`Ctx`].
#[derive(Clone, Copy, Debug)]
enum Payload {
    None,
    /// A JSON object.
    Json(&'static str),
    /// A bare JSON array (the voice batches).
    Array(&'static str),
    /// `application/x-www-form-urlencoded` (the token endpoint).
    Form(&'static str),
}

/// One operation of the server.
struct Op {
    method: &'static str,
    /// Path (and query) template.
    path: &'static str,
    role: Role,
    body: Payload,
    /// The status of a valid request by the right caller, in table order (see the
    /// table test).
    ok: u16,
    /// Name-like string fields and which edge values ([`EDGES`]) pass their rules
    /// (by letter); the others are a 400 naming the field.
    texts: &'static [(&'static str, &'static str)],
    /// Fields and a wrongly typed JSON value for each: a 400 naming the field, 20001.
    types: &'static [(&'static str, &'static str)],
}

const fn op(method: &'static str, path: &'static str, role: Role, body: Payload, ok: u16) -> Op {
    Op {
        method,
        path,
        role,
        body,
        ok,
        texts: &[],
        types: &[],
    }
}

const ACCOUNT_BODY: &str = r#"{"name": "{root}", "domains": [{"domainName": "{domain}", "isDefault": true}], "accountSize": {size}}"#;
const ACCOUNT_TEXTS: &[(&str, &str)] = &[
    ("name", "SD"),
    ("description", "NREZSDT"),
    ("domains[0].domainName", ""),
];
const ACCOUNT_TYPES: &[(&str, &str)] = &[
    ("name", "5"),
    ("accountSize", r#""ten""#),
    ("domains", "{}"),
    ("domains[0].isDefault", r#""yes""#),
    ("features", "[]"),
    ("emergencyEmailAddresses", r#""a@b.example""#),
];
const ACO_BODY: &str = r#"{"name": "Hostile ACO", "environment": "Production", "didNumbers": []}"#;
const ACO_TEXTS: &[(&str, &str)] = &[
    ("name", ""),
    ("description", ""),
    ("environment", ""),
    ("didNumbers[0]", ""),
];
const ACO_TYPES: &[(&str, &str)] = &[
    ("name", "5"),
    ("didNumbers", r#""+16062128688""#),
    ("didNumbers[0]", "5"),
    ("isChatEnabled", r#""yes""#),
];
const TEAMS_BODY: &str = r#"{"name": "Hostile Teams", "domain": "hostile.example.com"}"#;
const TEAMS_TEXTS: &[(&str, &str)] = &[("name", ""), ("description", ""), ("domain", "")];
const TEAMS_TYPES: &[(&str, &str)] = &[("name", "5"), ("domain", "[]"), ("didNumbers", "{}")];
const BATCH_TEXTS: &[(&str, &str)] = &[("[0]", "NREZLSDT")];
const BATCH_TYPES: &[(&str, &str)] = &[("[0]", "5"), ("[1]", "{}")];
const NODE_TEXTS: &[(&str, &str)] = &[
    ("name", ""),
    ("parentPath", "NREZSDT"),
    ("countryCode", ""),
    ("profiles[0].profileId", ""),
];
const NODE_TYPES: &[(&str, &str)] = &[
    ("name", "5"),
    ("parentPath", "[]"),
    ("countryCode", "1"),
    ("profiles", r#""AQXSWF""#),
    ("profiles[0].profileId", "5"),
];
const PROFILE_TEXTS: &[(&str, &str)] = &[("profileName", "REZSDT"), ("description", "NREZSDT")];
const PROFILE_TYPES: &[(&str, &str)] = &[("profileName", "5"), ("description", "[]")];
const AUDIT_BODY: &str = r#"{"startDate": "2000-01-01T00:00:00Z", "endDate": "2999-01-01T00:00:00Z", "type": "ACCOUNT"}"#;
const AUDIT_TEXTS: &[(&str, &str)] = &[
    ("searchKeyword", "NREZSDT"),
    ("author", ""),
    ("event", ""),
    ("startDate", ""),
    ("type", ""),
];
const AUDIT_TYPES: &[(&str, &str)] = &[
    ("startDate", "5"),
    ("type", "[]"),
    ("searchKeyword", "5"),
    ("author", "{}"),
];

/// Every operation the server routes, in an order in which the valid requests of the
/// right caller all succeed (deletes after reads and writes; the reset last).
const OPS: &[Op] = &[
    // Operations (no authentication).
    op("GET", "/healthz", Role::Public, Payload::None, 200),
    op("GET", "/readyz", Role::Public, Payload::None, 200),
    op("GET", "/metrics", Role::Public, Payload::None, 200),
    op("GET", "/openapi.json", Role::Public, Payload::None, 200),
    op("GET", "/docs", Role::Public, Payload::None, 200),
    op(
        "GET",
        "/docs/swagger-ui-bundle.js",
        Role::Public,
        Payload::None,
        200,
    ),
    op(
        "GET",
        "/docs/swagger-ui.css",
        Role::Public,
        Payload::None,
        200,
    ),
    // The web console: its page, its files, and `/`, which redirects to it (the
    // client follows, so 200).
    op("GET", "/", Role::Public, Payload::None, 200),
    op("GET", "/console", Role::Public, Payload::None, 200),
    op(
        "GET",
        "/console/console.css",
        Role::Public,
        Payload::None,
        200,
    ),
    op("GET", "/console/dom.js", Role::Public, Payload::None, 200),
    op("GET", "/console/api.js", Role::Public, Payload::None, 200),
    op("GET", "/console/pages.js", Role::Public, Payload::None, 200),
    op("GET", "/console/app.js", Role::Public, Payload::None, 200),
    // Auth.
    op(
        "POST",
        "/api/auth/v1/{account}/protocol/openid-connect/token",
        Role::Client,
        Payload::Form(
            "grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}",
        ),
        200,
    ),
    // Accounts.
    op(
        "GET",
        "/api/admin/account/v1/accounts",
        Role::Admin,
        Payload::None,
        200,
    ),
    Op {
        texts: ACCOUNT_TEXTS,
        types: ACCOUNT_TYPES,
        ..op(
            "POST",
            "/api/admin/account/v1/accounts",
            Role::Admin,
            Payload::Json(
                r#"{"name": "Hostile Created", "domains": [{"domainName": "hostile.example.com"}], "accountSize": 5}"#,
            ),
            202,
        )
    },
    op(
        "GET",
        "/api/admin/account/v1/accounts/{account}",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    Op {
        texts: ACCOUNT_TEXTS,
        types: ACCOUNT_TYPES,
        ..op(
            "PUT",
            "/api/admin/account/v1/accounts/{account}",
            Role::AccountAdmin,
            Payload::Json(ACCOUNT_BODY),
            202,
        )
    },
    Op {
        texts: &[("accountIds[0]", "")],
        types: &[("accountIds", r#""AQWSDE""#), ("accountIds[0]", "5")],
        ..op(
            "POST",
            "/api/admin/account/v1/accounts:listStatuses",
            Role::AccountAdmin,
            Payload::Json(r#"{"accountIds": ["{account}"]}"#),
            200,
        )
    },
    // Clients.
    op(
        "GET",
        "/api/admin/account/v1/accounts/{account}/clients",
        Role::Admin,
        Payload::None,
        200,
    ),
    Op {
        texts: &[("roles[0]", ""), ("features[0]", "")],
        types: &[
            ("roles", r#""Administrator""#),
            ("roles[0]", "5"),
            ("features", "{}"),
        ],
        ..op(
            "POST",
            "/api/admin/account/v1/accounts/{account}/clients",
            Role::Admin,
            Payload::Json(r#"{"roles": ["Account Administrator"]}"#),
            201,
        )
    },
    op(
        "DELETE",
        "/api/admin/account/v1/accounts/{account}/clients/{client}",
        Role::Admin,
        Payload::None,
        204,
    ),
    // Voice elements.
    op(
        "GET",
        "/api/admin/voice/v1/accounts/{account}/elements",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    op(
        "GET",
        "/api/admin/voice/v1/accounts/{account}/aco-elements/{aco}",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    Op {
        texts: ACO_TEXTS,
        types: ACO_TYPES,
        ..op(
            "PUT",
            "/api/admin/voice/v1/accounts/{account}/aco-elements/{aco}",
            Role::AccountAdmin,
            Payload::Json(ACO_BODY),
            202,
        )
    },
    op(
        "DELETE",
        "/api/admin/voice/v1/accounts/{account}/aco-elements/{aco}",
        Role::AccountAdmin,
        Payload::None,
        204,
    ),
    Op {
        texts: ACO_TEXTS,
        types: ACO_TYPES,
        ..op(
            "POST",
            "/api/admin/voice/v1/accounts/{account}/aco-elements",
            Role::AccountAdmin,
            Payload::Json(ACO_BODY),
            202,
        )
    },
    op(
        "GET",
        "/api/admin/voice/v1/accounts/{account}/msteams-elements/{teams}",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    Op {
        texts: TEAMS_TEXTS,
        types: TEAMS_TYPES,
        ..op(
            "PUT",
            "/api/admin/voice/v1/accounts/{account}/msteams-elements/{teams}",
            Role::AccountAdmin,
            Payload::Json(TEAMS_BODY),
            202,
        )
    },
    op(
        "DELETE",
        "/api/admin/voice/v1/accounts/{account}/msteams-elements/{teams}",
        Role::AccountAdmin,
        Payload::None,
        204,
    ),
    Op {
        texts: TEAMS_TEXTS,
        types: TEAMS_TYPES,
        ..op(
            "POST",
            "/api/admin/voice/v1/accounts/{account}/msteams-elements",
            Role::AccountAdmin,
            Payload::Json(TEAMS_BODY),
            202,
        )
    },
    // Phone numbers.
    op(
        "GET",
        "/api/admin/voice/v1/accounts/{account}/phone-numbers",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    Op {
        texts: &[("displayName", "NREZSDT"), ("phoneNumber", "")],
        types: &[
            ("phoneNumber", "16479308804"),
            ("isCallingPartyNumber", r#""yes""#),
            ("displayName", "{}"),
        ],
        ..op(
            "POST",
            "/api/admin/voice/v1/accounts/{account}/phone-numbers",
            Role::AccountAdmin,
            Payload::Json(r#"{"phoneNumber": "{new_e164}", "displayName": "Hostile Number"}"#),
            202,
        )
    },
    op(
        "GET",
        "/api/admin/voice/v1/accounts/{account}/phone-numbers/{number}",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    Op {
        texts: &[("displayName", "NREZSDT"), ("preferredMediaLocation", "")],
        types: &[
            ("displayName", "5"),
            ("isCallingPartyNumber", r#""no""#),
            ("preferredMediaLocation", "true"),
        ],
        ..op(
            "PUT",
            "/api/admin/voice/v1/accounts/{account}/phone-numbers/{number}",
            Role::AccountAdmin,
            Payload::Json(r#"{"displayName": "Hostile Number", "isCallingPartyNumber": false}"#),
            202,
        )
    },
    op(
        "POST",
        "/api/admin/voice/v1/accounts/{account}/phone-numbers/{number}:disable",
        Role::Admin,
        Payload::None,
        200,
    ),
    op(
        "POST",
        "/api/admin/voice/v1/accounts/{account}/phone-numbers/{number}:enable",
        Role::Admin,
        Payload::None,
        200,
    ),
    Op {
        texts: &[("accountId", ""), ("phoneNumberId", "")],
        types: &[("accountId", "5"), ("phoneNumberId", "[]")],
        ..op(
            "POST",
            "/_ccadmin/verifications",
            Role::Admin,
            Payload::Json(r#"{"accountId": "{account}", "phoneNumberId": "{number}"}"#),
            200,
        )
    },
    Op {
        texts: BATCH_TEXTS,
        types: BATCH_TYPES,
        ..op(
            "POST",
            "/api/admin/voice/v1/accounts/{account}/phone-numbers:list",
            Role::AccountAdmin,
            Payload::Array(r#"["{number}"]"#),
            200,
        )
    },
    Op {
        texts: BATCH_TEXTS,
        types: BATCH_TYPES,
        ..op(
            "POST",
            "/api/admin/voice/v1/accounts/{account}/phone-numbers:validate",
            Role::AccountAdmin,
            Payload::Array(r#"["{number}"]"#),
            200,
        )
    },
    Op {
        texts: BATCH_TEXTS,
        types: BATCH_TYPES,
        ..op(
            "POST",
            "/api/admin/voice/v1/accounts/{account}/phone-numbers:getByPhoneNumbers",
            Role::AccountAdmin,
            Payload::Array(r#"["{e164}"]"#),
            200,
        )
    },
    Op {
        texts: BATCH_TEXTS,
        types: BATCH_TYPES,
        ..op(
            "POST",
            "/api/admin/voice/v1/accounts/*/phone-numbers:getByPhoneNumbers?filter=accountId={account}",
            Role::Admin,
            Payload::Array(r#"["{e164}"]"#),
            200,
        )
    },
    op(
        "GET",
        "/api/admin/voice/v1/accounts/{account}/available-phone-numbers?countryCode=CA&type=LOCAL",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    op(
        "GET",
        "/api/admin/voice/v1/accounts/{account}/countries?type=LOCAL",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    op(
        "DELETE",
        "/api/admin/voice/v1/accounts/{account}/phone-numbers/{number}",
        Role::AccountAdmin,
        Payload::None,
        204,
    ),
    // Organization nodes.
    op(
        "GET",
        "/api/admin/account/v1/accounts/{account}/organization-nodes",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    Op {
        texts: NODE_TEXTS,
        types: NODE_TYPES,
        ..op(
            "POST",
            "/api/admin/account/v1/accounts/{account}/organization-nodes",
            Role::AccountAdmin,
            Payload::Json(r#"{"name": "Hostile Node", "parentPath": "{root}"}"#),
            202,
        )
    },
    op(
        "GET",
        "/api/admin/account/v1/accounts/{account}/organization-nodes/{node}",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    Op {
        texts: NODE_TEXTS,
        types: NODE_TYPES,
        ..op(
            "PUT",
            "/api/admin/account/v1/accounts/{account}/organization-nodes/{node}",
            Role::AccountAdmin,
            Payload::Json(r#"{"name": "{node_name}", "parentPath": "{root}"}"#),
            200,
        )
    },
    Op {
        texts: &[("organizationNodeIds[0]", "")],
        types: &[
            ("organizationNodeIds", r#""ABCDEF""#),
            ("organizationNodeIds[0]", "5"),
        ],
        ..op(
            "POST",
            "/api/admin/account/v1/accounts/{account}/organization-nodes:listStatuses",
            Role::AccountAdmin,
            Payload::Json(r#"{"organizationNodeIds": ["{node}"]}"#),
            200,
        )
    },
    op(
        "DELETE",
        "/api/admin/account/v1/accounts/{account}/organization-nodes/{node}",
        Role::AccountAdmin,
        Payload::None,
        204,
    ),
    // Profiles.
    op(
        "GET",
        "/api/admin/user/v1/accounts/{account}/profiles",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    Op {
        texts: PROFILE_TEXTS,
        types: PROFILE_TYPES,
        ..op(
            "POST",
            "/api/admin/user/v1/accounts/{account}/profiles",
            Role::AccountAdmin,
            Payload::Json(r#"{"profileName": "Hostile Profile"}"#),
            201,
        )
    },
    op(
        "GET",
        "/api/admin/user/v1/accounts/{account}/profiles/{profile}",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    Op {
        texts: PROFILE_TEXTS,
        types: PROFILE_TYPES,
        ..op(
            "PUT",
            "/api/admin/user/v1/accounts/{account}/profiles/{profile}",
            Role::AccountAdmin,
            Payload::Json(r#"{"profileName": "{profile_name}"}"#),
            200,
        )
    },
    op(
        "DELETE",
        "/api/admin/user/v1/accounts/{account}/profiles/{profile}",
        Role::AccountAdmin,
        Payload::None,
        204,
    ),
    // Audit records.
    Op {
        texts: AUDIT_TEXTS,
        types: AUDIT_TYPES,
        ..op(
            "POST",
            "/api/admin/account/v1/accounts/{account}/audit-records:search",
            Role::AccountAdmin,
            Payload::Json(AUDIT_BODY),
            200,
        )
    },
    Op {
        texts: AUDIT_TEXTS,
        types: AUDIT_TYPES,
        ..op(
            "POST",
            "/api/admin/account/v1/accounts/{account}/audit-records:export",
            Role::AccountAdmin,
            Payload::Json(AUDIT_BODY),
            200,
        )
    },
    // The account's event stream (extension).
    op(
        "GET",
        "/api/admin/account/v1/accounts/{account}/events",
        Role::AccountAdmin,
        Payload::None,
        200,
    ),
    // Emulator controls.
    op("GET", "/_ccadmin/jobs", Role::Admin, Payload::None, 200),
    op(
        "POST",
        "/_ccadmin/jobs:settle",
        Role::Admin,
        Payload::None,
        200,
    ),
    op(
        "GET",
        "/_ccadmin/transitions",
        Role::Admin,
        Payload::None,
        200,
    ),
    op("GET", "/_ccadmin/clock", Role::Admin, Payload::None, 200),
    Op {
        texts: &[("by", "")],
        types: &[("by", "5")],
        ..op(
            "POST",
            "/_ccadmin/clock:advance",
            Role::Admin,
            Payload::Json(r#"{"by": "1ms"}"#),
            200,
        )
    },
    op(
        "POST",
        "/_ccadmin/clock:freeze",
        Role::Admin,
        Payload::None,
        200,
    ),
    op(
        "POST",
        "/_ccadmin/clock:unfreeze",
        Role::Admin,
        Payload::None,
        200,
    ),
    op("GET", "/_ccadmin/rules", Role::Admin, Payload::None, 200),
    Op {
        texts: &[("delay", ""), ("outcome", "")],
        types: &[
            ("delay", "5"),
            ("outcome", "[]"),
            ("failureProbability", r#""half""#),
        ],
        ..op(
            "PUT",
            "/_ccadmin/rules/{kind}",
            Role::Admin,
            Payload::Json(r#"{"delay": "0ms"}"#),
            200,
        )
    },
    op(
        "DELETE",
        "/_ccadmin/rules/{kind}",
        Role::Admin,
        Payload::None,
        204,
    ),
    Op {
        types: &[("seed", r#""42""#), ("seed", "-1")],
        ..op(
            "PUT",
            "/_ccadmin/seed",
            Role::Admin,
            Payload::Json(r#"{"seed": 42}"#),
            200,
        )
    },
    op("GET", "/_ccadmin/events", Role::Admin, Payload::None, 200),
    op("GET", "/_ccadmin/state", Role::Admin, Payload::None, 200),
    // A valid body is a whole snapshot, which would replace the world these walks run
    // in: the walks send none (415, no content type) and check the callers; the
    // import's own answers are tests/api/state.rs's.
    op("PUT", "/_ccadmin/state", Role::Admin, Payload::None, 415),
    // Injected faults: the valid one matches no routed path, so it touches no walk.
    op("GET", "/_ccadmin/faults", Role::Admin, Payload::None, 200),
    Op {
        types: &[
            ("method", "5"),
            ("path", "[]"),
            ("accountId", "5"),
            ("status", r#""503""#),
            ("delayMs", r#""1""#),
            ("drop", r#""yes""#),
            ("probability", r#""half""#),
            ("times", "1.5"),
        ],
        ..op(
            "PUT",
            "/_ccadmin/faults/{fault}",
            Role::Admin,
            Payload::Json(r#"{"method": "GET", "path": "/api/hostile/none", "status": 503}"#),
            200,
        )
    },
    op(
        "DELETE",
        "/_ccadmin/faults/{fault}",
        Role::Admin,
        Payload::None,
        204,
    ),
    op(
        "DELETE",
        "/_ccadmin/faults",
        Role::Admin,
        Payload::None,
        204,
    ),
    // The request journal: the entry is read before the journal is cleared.
    op(
        "GET",
        "/_ccadmin/requests?method=GET&path=/api/*&status=200&accountId=AQWSDE&since=2020-01-01T00:00:00Z&limit=5",
        Role::Admin,
        Payload::None,
        200,
    ),
    op(
        "GET",
        "/_ccadmin/requests/{request}",
        Role::Admin,
        Payload::None,
        200,
    ),
    Op {
        types: &[
            ("method", "5"),
            ("path", "[]"),
            ("status", r#""200""#),
            ("accountId", "5"),
        ],
        ..op(
            "POST",
            "/_ccadmin/requests:count",
            Role::Admin,
            Payload::Json(r#"{"method": "GET", "accountId": "{account}"}"#),
            200,
        )
    },
    op(
        "DELETE",
        "/_ccadmin/requests",
        Role::Admin,
        Payload::None,
        204,
    ),
    Op {
        texts: &[("accountId", "")],
        types: &[("accountId", "5")],
        ..op(
            "POST",
            "/_ccadmin/reset",
            Role::Admin,
            Payload::Json(r#"{"accountId": "{account}"}"#),
            204,
        )
    },
];

/// Edge values for name-like fields, by the letter [`Op::texts`] uses.
const EDGE_LETTERS: &str = "NREZLSDT";

fn edge(letter: char) -> (&'static str, String) {
    match letter {
        'N' => ("NUL byte", "Hostile\u{0}Nul".to_owned()),
        'R' => ("RTL override", "Hostile \u{202e}Rtl".to_owned()),
        'E' => ("4-byte emoji", "Hostile \u{1F600} Emoji".to_owned()),
        'Z' => ("zero-width space", "Hostile\u{200b}Zwsp".to_owned()),
        'L' => ("2000 characters", "L".repeat(2000)),
        'S' => ("SQL ' or 1=1", "' or 1=1 --".to_owned()),
        'D' => ("SQL drop table", "\"; drop table account; --".to_owned()),
        'T' => ("path traversal", "../../etc/passwd".to_owned()),
        _ => unreachable!("no edge {letter}"),
    }
}

/// What fills a template: one account's resources and credentials.
#[derive(Clone, Debug)]
struct Ctx {
    account: String,
    root: String,
    domain: String,
    size: i64,
    aco: String,
    teams: String,
    number: String,
    e164: String,
    new_e164: String,
    node: String,
    node_name: String,
    profile: String,
    profile_name: String,
    /// A client of the account, for `DELETE …/clients/{client}`.
    client: String,
    /// The credentials the token endpoint's valid request uses.
    client_id: String,
    client_secret: String,
    appkey: String,
    /// An entry of the request journal, for `GET /_ccadmin/requests/{request}`.
    request: String,
}

/// The path placeholders and the field a bad value of each is reported as.
const PATH_KEYS: [(&str, Option<&str>); 10] = [
    ("{account}", Some("accountId")),
    ("{aco}", Some("elementId")),
    ("{teams}", Some("elementId")),
    ("{number}", Some("phoneNumberId")),
    ("{node}", Some("organizationNodeId")),
    ("{profile}", Some("profileId")),
    ("{client}", None),
    ("{kind}", None),
    ("{fault}", Some("name")),
    ("{request}", None),
];

impl Ctx {
    fn fill_with(&self, template: &str, encode: impl Fn(&str) -> String) -> String {
        let size = self.size.to_string();
        let pairs: [(&str, &str); 19] = [
            ("{account}", &self.account),
            ("{root}", &self.root),
            ("{domain}", &self.domain),
            ("{size}", &size),
            ("{aco}", &self.aco),
            ("{teams}", &self.teams),
            ("{number}", &self.number),
            ("{e164}", &self.e164),
            ("{new_e164}", &self.new_e164),
            ("{node_name}", &self.node_name),
            ("{node}", &self.node),
            ("{profile_name}", &self.profile_name),
            ("{profile}", &self.profile),
            ("{client_id}", &self.client_id),
            ("{client_secret}", &self.client_secret),
            ("{client}", &self.client),
            ("{kind}", "voice.aco"),
            ("{fault}", "hostile-fault"),
            ("{request}", &self.request),
        ];
        let mut out = template.to_owned();
        for (k, v) in pairs {
            out = out.replace(k, &encode(v));
        }
        out
    }

    fn fill(&self, template: &str) -> String {
        self.fill_with(template, str::to_owned)
    }
}

/// Percent-encodes everything but unreserved characters.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One request of the walk.
#[derive(Clone)]
struct Req {
    method: Method,
    path: String,
    authorization: Option<HeaderValue>,
    appkey: Option<String>,
    content_type: Option<String>,
    body: Option<Vec<u8>>,
}

impl Req {
    fn describe(&self) -> String {
        let cut = |s: &str| {
            if s.chars().count() > 160 {
                format!("{}…", s.chars().take(160).collect::<String>())
            } else {
                s.to_owned()
            }
        };
        let body = self
            .body
            .as_ref()
            .map(|b| format!(" body {}", cut(&String::from_utf8_lossy(b))))
            .unwrap_or_default();
        format!("{} {}{body}", self.method, cut(&self.path))
    }

    fn with_body(&self, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Req {
        Req {
            content_type: content_type.map(str::to_owned),
            body: Some(body.into()),
            ..self.clone()
        }
    }

    fn with_auth(&self, authorization: Option<HeaderValue>, appkey: Option<String>) -> Req {
        Req {
            authorization,
            appkey,
            ..self.clone()
        }
    }

    fn as_creds(&self, c: &Creds) -> Req {
        self.with_auth(Some(bearer(&c.token)), Some(c.appkey.clone()))
    }
}

/// At most 300 characters of `s`.
fn cut(s: &str) -> String {
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_owned()
    }
}

fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("a header value")
}

/// An answer, read.
struct Answer {
    status: u16,
    content_type: String,
    www_authenticate: Option<String>,
    text: String,
    json: Value,
}

impl Answer {
    fn violations(&self) -> Vec<(String, i64)> {
        self.json["violations"]
            .as_array()
            .map(|vs| {
                vs.iter()
                    .map(|v| {
                        (
                            v["field"].as_str().unwrap_or_default().to_owned(),
                            v["code"].as_i64().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The listed items, wherever the answer keeps them.
    fn items(&self) -> Option<&Vec<Value>> {
        if let Some(a) = self.json.as_array() {
            return Some(a);
        }
        [
            "accounts",
            "phoneNumbers",
            "organizationNodes",
            "auditRecords",
            "jobs",
            "transitions",
            "profiles",
            "elements",
        ]
        .iter()
        .find_map(|k| self.json[*k].as_array())
    }
}

/// A test's server, callers and resources: the victim account ABCDEF (its owner the
/// demo Account Administrator) and the attacker's own account AQWSDE (an Account
/// Administrator client created for it).
struct World {
    app: TestApp,
    admin: Creds,
    owner: Creds,
    attacker: Creds,
    attacker_client: (String, String),
    /// A spare client of AQWSDE, for the token endpoint's wrong-secret cases.
    spare: (String, String, String),
    victim: Ctx,
    mine: Ctx,
    requests: AtomicUsize,
    /// Every broken expectation: the walk goes on, and the test fails at its end
    /// listing them all.
    failures: Mutex<Vec<String>>,
}

/// What the victim's data looks like in an answer: none of it may reach the attacker.
const VICTIM_MARK: &str = "Victim";

impl World {
    async fn new(b: &Backend) -> World {
        let app = spawn_app(b).await;
        let admin = app.admin().await;
        let owner = app.demo().await;
        let created = |v: &Value| {
            (
                v["clientId"].as_str().unwrap().to_owned(),
                v["clientSecret"].as_str().unwrap().to_owned(),
                v["appkey"].as_str().unwrap().to_owned(),
            )
        };
        let body = json!({"roles": ["Account Administrator"]});
        let (a_id, a_secret, a_key) = created(&app.create_client("AQWSDE", &body).await);
        let spare = created(&app.create_client("AQWSDE", &body).await);
        let attacker = app.login("AQWSDE", &a_id, &a_secret, &a_key).await;

        // CA LOCAL numbers need documents: activated, they wait INACTIVE for them.
        let (status, page) = status_json(
            app.get(
                "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?countryCode=CA&type=LOCAL&pageSize=3",
                &owner,
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let numbers: Vec<String> = page["phoneNumbers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["phoneNumber"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(numbers.len(), 3, "{page}");

        let mut victim = Ctx {
            account: "ABCDEF".into(),
            root: "Demo Contact Center".into(),
            domain: "demo.example.com".into(),
            size: 100,
            e164: numbers[0].clone(),
            // Never added: the victim's paths only ever see refused requests.
            new_e164: numbers[2].clone(),
            client: "demo-client".into(),
            client_id: "demo-client".into(),
            client_secret: "demo-secret".into(),
            appkey: "demo-appkey".into(),
            ..Ctx::blank()
        };
        populate(&app, &owner, &mut victim, VICTIM_MARK, true).await;
        let mut mine = Ctx {
            account: "AQWSDE".into(),
            root: "SyncG".into(),
            domain: "avaya.com".into(),
            size: 10,
            e164: numbers[1].clone(),
            new_e164: numbers[2].clone(),
            client: spare.0.clone(),
            client_id: a_id.clone(),
            client_secret: a_secret.clone(),
            appkey: a_key.clone(),
            ..Ctx::blank()
        };
        populate(&app, &attacker, &mut mine, "Attacker", false).await;
        app.finish_jobs().await;
        let (status, journal) =
            status_json(app.get("/_ccadmin/requests?limit=1", &admin).await).await;
        assert_eq!(status, 200, "{journal}");
        // The journal is the instance's, not an account's: one entry serves both sides.
        mine.request = journal["requests"][0]["id"].as_str().unwrap().to_owned();
        victim.request = mine.request.clone();
        World {
            app,
            admin,
            owner,
            attacker,
            attacker_client: (a_id, a_secret),
            spare,
            victim,
            mine,
            requests: AtomicUsize::new(0),
            failures: Mutex::new(Vec::new()),
        }
    }

    /// New tokens for every caller (after the clock moved).
    async fn relogin(&mut self) {
        self.admin = self.app.admin().await;
        self.owner = self.app.demo().await;
        let (id, secret) = &self.attacker_client;
        self.attacker = self
            .app
            .login("AQWSDE", id, secret, &self.attacker.appkey)
            .await;
    }

    /// The credentials of the right caller of `role` in `ctx`.
    fn creds_for(&self, role: Role, ctx: &Ctx) -> Option<&Creds> {
        match role {
            Role::Public | Role::Client => None,
            Role::Admin => Some(&self.admin),
            Role::AccountAdmin if ctx.account == self.victim.account => Some(&self.owner),
            Role::AccountAdmin => Some(&self.attacker),
        }
    }

    /// The valid request of `op` in `ctx`, by `creds`.
    fn request(&self, op: &Op, ctx: &Ctx, creds: Option<&Creds>) -> Req {
        self.request_at(op, ctx, ctx.fill(op.path), creds)
    }

    fn request_at(&self, op: &Op, ctx: &Ctx, path: String, creds: Option<&Creds>) -> Req {
        let (content_type, body) = match op.body {
            Payload::None => (None, None),
            Payload::Json(t) | Payload::Array(t) => (
                Some("application/json".to_owned()),
                Some(ctx.fill(t).into_bytes()),
            ),
            Payload::Form(t) => (
                Some("application/x-www-form-urlencoded".to_owned()),
                Some(ctx.fill_with(t, enc).into_bytes()),
            ),
        };
        let (authorization, appkey) = match (op.role, creds) {
            (Role::Client, _) => (None, Some(ctx.appkey.clone())),
            (_, Some(c)) => (Some(bearer(&c.token)), Some(c.appkey.clone())),
            (_, None) => (None, None),
        };
        Req {
            method: Method::from_bytes(op.method.as_bytes()).unwrap(),
            path,
            authorization,
            appkey,
            content_type,
            body,
        }
    }

    async fn send(&self, req: &Req) -> Answer {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut rb = self
            .app
            .http
            .request(req.method.clone(), self.app.url(&req.path));
        if let Some(a) = &req.authorization {
            rb = rb.header("authorization", a.clone());
        }
        if let Some(k) = &req.appkey {
            rb = rb.header("appkey", k);
        }
        if let Some(ct) = &req.content_type {
            rb = rb.header("content-type", ct);
        }
        if let Some(b) = &req.body {
            rb = rb.body(b.clone());
        }
        let res = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: no answer: {e:?}", req.describe()));
        let status = res.status().as_u16();
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or_default().to_owned())
        };
        let content_type = header("content-type").unwrap_or_default();
        let www_authenticate = header("www-authenticate");
        // An event stream never ends: its status and type are all there is to see.
        let text = if content_type.starts_with("text/event-stream") {
            String::new()
        } else {
            res.text().await.expect("a body")
        };
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            www_authenticate,
            text,
            json,
        }
    }

    /// Sends `req` and checks what every answer must be: no 5xx; a 4xx is a problem
    /// whose `status` is the HTTP status (a 400 with violations, a 401 with
    /// `WWW-Authenticate`); the attacker never sees the victim's data.
    async fn call(&self, case: &str, req: &Req) -> Answer {
        let ans = self.send(req).await;
        let what = || {
            format!(
                "{} [{case}] -> {} {}",
                req.describe(),
                ans.status,
                cut(&ans.text)
            )
        };
        self.check(ans.status < 500, || format!("SERVER ERROR: {}", what()));
        if (400..500).contains(&ans.status) {
            self.check(ans.content_type == "application/problem+json", || {
                format!("not a problem ({}): {}", ans.content_type, what())
            });
            self.check(ans.json["status"] == ans.status, || {
                format!("problem status is not the HTTP status: {}", what())
            });
            for k in ["type", "title", "detail", "instance"] {
                self.check(ans.json[k].is_string(), || {
                    format!("problem without {k}: {}", what())
                });
            }
        }
        if ans.status == 400 {
            let vs = ans.json["violations"].as_array();
            self.check(vs.is_some_and(|v| !v.is_empty()), || {
                format!("no violations: {}", what())
            });
            for v in vs.into_iter().flatten() {
                self.check(
                    v["field"].is_string() && v["message"].is_string() && v["code"].is_i64(),
                    || format!("violation without field, message and code: {}", what()),
                );
            }
        }
        if ans.status == 401 {
            self.check(ans.www_authenticate.as_deref() == Some("Bearer"), || {
                format!("401 without WWW-Authenticate: Bearer: {}", what())
            });
        }
        let attacker = req.authorization.as_ref() == Some(&bearer(&self.attacker.token))
            || req.appkey.as_deref() == Some(self.mine.appkey.as_str());
        if attacker {
            let sent = format!(
                "{} {}",
                req.path,
                String::from_utf8_lossy(req.body.as_deref().unwrap_or_default())
            );
            for mark in [VICTIM_MARK.to_owned(), self.victim.e164[1..].to_owned()] {
                self.check(!ans.text.contains(&mark) || sent.contains(&mark), || {
                    format!("CROSS-ACCOUNT LEAK ({mark}): {}", what())
                });
            }
        }
        ans
    }

    /// Records a failure unless `ok`.
    fn check(&self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            let m = message();
            eprintln!("FAILED: {m}");
            self.failures.lock().unwrap().push(m);
        }
    }

    /// Calls and expects `status`.
    async fn expect(&self, case: &str, req: &Req, status: u16) -> Answer {
        let ans = self.call(case, req).await;
        self.check(ans.status == status, || {
            format!(
                "{} [{case}]: expected {status}, got {} {}",
                req.describe(),
                ans.status,
                cut(&ans.text)
            )
        });
        ans
    }

    /// Calls and expects a 400 naming `field` (with `code`, if given).
    async fn expect_violation(&self, case: &str, req: &Req, field: &str, code: Option<i64>) {
        let ans = self.expect(case, req, 400).await;
        let vs = ans.violations();
        if ans.status == 400 {
            self.check(
                vs.iter()
                    .any(|(f, c)| f == field && code.is_none_or(|code| *c == code)),
                || {
                    format!(
                        "{} [{case}]: expected a violation of {field} ({code:?}), got {vs:?}",
                        req.describe()
                    )
                },
            );
        }
    }

    /// Fails the test with every recorded failure.
    fn finish(&self, test: &str, started: Instant) {
        self.report(test, started);
        let failures = self.failures.lock().unwrap();
        assert!(
            failures.is_empty(),
            "{} broken expectations in the {test} walk:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    /// Everything the owner (and the Administrator) can read of the victim account:
    /// the walks must leave it exactly as it was.
    async fn victim_state(&self) -> Vec<(String, Value)> {
        let v = &self.victim;
        let acc = "/api/admin/account/v1/accounts/ABCDEF";
        let voice = "/api/admin/voice/v1/accounts/ABCDEF";
        let user = "/api/admin/user/v1/accounts/ABCDEF";
        let mut reads: Vec<(Method, String, Option<Value>, &Creds)> = [
            acc.to_owned(),
            format!("{voice}/elements"),
            format!("{voice}/aco-elements/{}", v.aco),
            format!("{voice}/msteams-elements/{}", v.teams),
            format!("{voice}/phone-numbers?pageSize=50"),
            format!("{voice}/phone-numbers/{}", v.number),
            format!("{acc}/organization-nodes?children=true&pageSize=50"),
            format!("{acc}/organization-nodes/{}", v.node),
            format!("{user}/profiles"),
            format!("{user}/profiles/{}", v.profile),
        ]
        .into_iter()
        .map(|p| (Method::GET, p, None, &self.owner))
        .collect();
        reads.push((Method::GET, format!("{acc}/clients"), None, &self.admin));
        reads.push((
            Method::GET,
            "/_ccadmin/jobs?accountId=ABCDEF".into(),
            None,
            &self.admin,
        ));
        reads.push((
            Method::GET,
            "/_ccadmin/transitions?accountId=ABCDEF".into(),
            None,
            &self.admin,
        ));
        reads.push((
            Method::POST,
            format!("{acc}/audit-records:search?pageSize=50"),
            Some(serde_json::from_str(AUDIT_BODY).unwrap()),
            &self.owner,
        ));
        reads.push((
            Method::POST,
            "/api/admin/account/v1/accounts:listStatuses".into(),
            Some(json!({"accountIds": ["ABCDEF"]})),
            &self.owner,
        ));
        reads.push((
            Method::POST,
            format!("{acc}/organization-nodes:listStatuses"),
            Some(json!({})),
            &self.owner,
        ));
        let mut out = Vec::new();
        for (method, path, body, creds) in reads {
            let res = self
                .app
                .call(method, &path, Some(creds), body.as_ref())
                .await;
            let (status, body) = status_json(res).await;
            self.check(status == 200, || {
                format!("victim state {path}: {status} {body}")
            });
            out.push((path, body));
        }
        out
    }

    fn report(&self, test: &str, started: Instant) {
        eprintln!(
            "hostile {test}: {} requests in {:.1} s",
            self.requests.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64()
        );
    }
}

impl Ctx {
    fn blank() -> Ctx {
        Ctx {
            account: String::new(),
            root: String::new(),
            domain: String::new(),
            size: 0,
            aco: String::new(),
            teams: String::new(),
            number: String::new(),
            e164: String::new(),
            new_e164: String::new(),
            node: String::new(),
            node_name: String::new(),
            profile: String::new(),
            profile_name: String::new(),
            client: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            appkey: String::new(),
            request: String::new(),
        }
    }
}

/// Creates one of each resource in `ctx.account` as `creds`, named after `who`.
async fn populate(app: &TestApp, creds: &Creds, ctx: &mut Ctx, who: &str, refer: bool) {
    let voice = format!("/api/admin/voice/v1/accounts/{}", ctx.account);
    let made = |path: String, body: Value, status: u16| async move {
        let (s, b) = status_json(app.post(&path, creds, &body).await).await;
        assert_eq!(s, status, "{path}: {b}");
        b
    };
    let aco = made(
        format!("{voice}/aco-elements"),
        json!({"name": format!("{who} ACO Qz"), "environment": "Production"}),
        202,
    )
    .await;
    ctx.aco = aco["elementId"].as_str().unwrap().to_owned();
    let teams = made(
        format!("{voice}/msteams-elements"),
        json!({"name": format!("{who} Teams Qz"), "domain": format!("{}.example.com", who.to_lowercase())}),
        202,
    )
    .await;
    ctx.teams = teams["elementId"].as_str().unwrap().to_owned();
    let number = made(
        format!("{voice}/phone-numbers"),
        json!({"phoneNumber": ctx.e164, "displayName": format!("{who} Number Qz")}),
        202,
    )
    .await;
    ctx.number = number["phoneNumberId"].as_str().unwrap().to_owned();
    ctx.profile_name = format!("{who} Profile Qz");
    let profile = made(
        format!("/api/admin/user/v1/accounts/{}/profiles", ctx.account),
        json!({"profileName": ctx.profile_name}),
        201,
    )
    .await;
    ctx.profile = profile["profileId"].as_str().unwrap().to_owned();
    ctx.node_name = format!("{who} Node Qz");
    let mut node = json!({"name": ctx.node_name, "parentPath": ctx.root});
    if refer {
        node["profiles"] = json!([{"profileId": ctx.profile}]);
    }
    let node = made(
        format!(
            "/api/admin/account/v1/accounts/{}/organization-nodes",
            ctx.account
        ),
        node,
        202,
    )
    .await;
    ctx.node = node["organizationNodeId"].as_str().unwrap().to_owned();
}

// ---------------------------------------------------------------------------------
// Tokens, forged and otherwise.

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// The token with the first character of its signature changed.
fn forged_signature(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').expect("a JWT");
    let first = if sig.starts_with('A') { 'B' } else { 'A' };
    format!("{head}.{first}{}", &sig[1..])
}

/// The token with claims made an Administrator's of the default account and a day
/// longer to live, its header and signature kept.
fn tampered_payload(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut c = claims(token);
    c["roles"] = json!(["Administrator"]);
    c["accountId"] = json!("PLATFM");
    c["exp"] = json!(c["exp"].as_i64().unwrap() + 86_400);
    let payload = b64(&serde_json::to_vec(&c).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// The token's claims under another header, signature kept (or dropped for `none`).
fn reheadered(token: &str, header: Value, keep_signature: bool) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let sig = if keep_signature { parts[2] } else { "" };
    format!(
        "{}.{}.{sig}",
        b64(&serde_json::to_vec(&header).unwrap()),
        parts[1]
    )
}

/// An Administrator's claims, well formed and signed with a guessed key.
fn guessed_key(token: &str) -> String {
    let mut c = claims(token);
    c["roles"] = json!(["Administrator"]);
    c["accountId"] = json!("PLATFM");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(
        &header,
        &c,
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .expect("a token")
}

type Credentials = (String, Option<HeaderValue>, Option<String>);

/// Every way to be the wrong caller with a 401: `good` is the right caller's token,
/// `expired` the same caller's after it expired, `revoked` a revoked client's.
fn unauthenticated(
    good: &Creds,
    expired: &Creds,
    revoked: &Creds,
    other_appkey: &str,
) -> Vec<Credentials> {
    let key = || Some(good.appkey.clone());
    let b = |t: &str| Some(bearer(t));
    let raw = |v: &str| Some(HeaderValue::from_str(v).unwrap());
    let two_parts = good.token.rsplit_once('.').unwrap().0.to_owned();
    vec![
        ("no token".into(), None, key()),
        ("no token and no appkey".into(), None, None),
        (
            "forged signature".into(),
            b(&forged_signature(&good.token)),
            key(),
        ),
        (
            "payload made Administrator, signature kept".into(),
            b(&tampered_payload(&good.token)),
            key(),
        ),
        (
            "alg none".into(),
            b(&reheadered(
                &good.token,
                json!({"alg": "none", "typ": "JWT", "kid": "k1"}),
                false,
            )),
            key(),
        ),
        (
            "alg HS512".into(),
            b(&reheadered(
                &good.token,
                json!({"alg": "HS512", "typ": "JWT", "kid": "k1"}),
                true,
            )),
            key(),
        ),
        (
            "unknown kid".into(),
            b(&reheadered(
                &good.token,
                json!({"alg": "HS256", "typ": "JWT", "kid": "k999"}),
                true,
            )),
            key(),
        ),
        (
            "Administrator signed with a guessed key".into(),
            b(&guessed_key(&good.token)),
            key(),
        ),
        ("malformed: not a JWT".into(), b("not-a-jwt"), key()),
        ("malformed: a.b.c".into(), b("a.b.c"), key()),
        ("malformed: two parts".into(), b(&two_parts), key()),
        ("malformed: SQL".into(), b("' or 1=1 --"), key()),
        ("malformed: 8 KiB".into(), b(&"x".repeat(8192)), key()),
        ("malformed: empty bearer".into(), raw("Bearer "), key()),
        (
            "malformed: Basic scheme".into(),
            raw("Basic dXNlcjpwYXNz"),
            key(),
        ),
        ("malformed: no scheme".into(), raw(&good.token), key()),
        (
            "malformed: not text".into(),
            Some(HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap()),
            key(),
        ),
        (
            "expired".into(),
            b(&expired.token),
            Some(expired.appkey.clone()),
        ),
        (
            "wrong appkey".into(),
            b(&good.token),
            Some(other_appkey.to_owned()),
        ),
        ("empty appkey".into(), b(&good.token), Some(String::new())),
        ("missing appkey".into(), b(&good.token), None),
        (
            "revoked client".into(),
            b(&revoked.token),
            Some(revoked.appkey.clone()),
        ),
    ]
}

// ---------------------------------------------------------------------------------
// JSON helpers.

enum Seg {
    Key(String),
    Index(usize),
}

/// `domains[0].isDefault` → Key(domains), Index(0), Key(isDefault); `[0]` → Index(0).
fn segments(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !name.is_empty() {
            out.push(Seg::Key(name.to_owned()));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            out.push(Seg::Index(idx.trim_end_matches(']').parse().unwrap()));
        }
    }
    out
}

/// Sets the value at `path`, creating what is missing on the way.
fn set_path(root: &mut Value, path: &str, new: Value) {
    let mut cur = root;
    for seg in segments(path) {
        cur = match seg {
            Seg::Key(k) => {
                if !cur.is_object() {
                    *cur = json!({});
                }
                cur.as_object_mut().unwrap().entry(k).or_insert(Value::Null)
            }
            Seg::Index(n) => {
                if !cur.is_array() {
                    *cur = json!([]);
                }
                let a = cur.as_array_mut().unwrap();
                while a.len() <= n {
                    a.push(Value::Null);
                }
                &mut a[n]
            }
        };
    }
    *cur = new;
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

// ---------------------------------------------------------------------------------
// The walks.

backend_tests! {
    async fn every_operation_refuses_every_wrong_caller(b: Backend) {
        let mut w = World::new(&b).await;
        let started = Instant::now();
        // Tokens expire on the server's clock (`Tokens::verify` gets `Clock::now_ms`):
        // these two expire when it moves past their 900 s.
        let expired_admin = w.admin.clone();
        let expired_owner = w.owner.clone();
        w.app.clock.advance(901_000);
        w.relogin().await;
        let get_account = OPS
            .iter()
            .find(|op| op.method == "GET" && op.path == "/api/admin/account/v1/accounts/{account}")
            .expect("GET of one account is in OPS");
        for expired in [&expired_admin, &expired_owner] {
            let ans = w.expect("expired", &w.request(get_account, &w.victim, Some(expired)), 401).await;
            assert!(ans.json["detail"].as_str().unwrap().contains("expired"), "{}", ans.text);
        }
        // A revoked client's token (revoked now, so it is not also expired).
        let r = w.app.create_client("AQWSDE", &json!({"roles": ["Account Administrator"]})).await;
        let (r_id, r_secret, r_key) = (r["clientId"].as_str().unwrap(), r["clientSecret"].as_str().unwrap(), r["appkey"].as_str().unwrap());
        let revoked = w.app.login("AQWSDE", r_id, r_secret, r_key).await;
        let res = w.app.call(Method::DELETE, &format!("/api/admin/account/v1/accounts/AQWSDE/clients/{r_id}"), Some(&w.admin), None).await;
        assert_eq!(res.status(), 204);

        let before = w.victim_state().await;
        let mut cases = 0;
        for op in OPS {
            let v = &w.victim;
            match op.role {
                Role::Client => continue,
                Role::Public => {
                    // No authentication: whatever is sent as credentials is ignored.
                    let base = w.request(op, v, None);
                    for (case, auth, key) in unauthenticated(&w.owner, &expired_owner, &revoked, "x") {
                        w.expect(&case, &base.with_auth(auth, key), 200).await;
                        cases += 1;
                    }
                    continue;
                }
                Role::Admin | Role::AccountAdmin => {}
            }
            let good = w.creds_for(op.role, v).unwrap();
            let (expired, other_appkey) = if op.role == Role::Admin {
                (&expired_admin, w.owner.appkey.as_str())
            } else {
                (&expired_owner, w.attacker.appkey.as_str())
            };
            let base = w.request(op, v, Some(good));
            for (case, auth, key) in unauthenticated(good, expired, &revoked, other_appkey) {
                w.expect(&case, &base.with_auth(auth, key), 401).await;
                cases += 1;
            }
            // Another account's Account Administrator on a path (or body) naming the
            // victim's account and resources: 403, decided before any lookup.
            w.expect("another account's token", &base.as_creds(&w.attacker), 403).await;
            cases += 1;
            if op.role == Role::Admin {
                w.expect("Account Administrator on an Administrator operation", &base.as_creds(&w.owner), 403).await;
                cases += 1;
            }
        }
        cases += token_endpoint_wrong_callers(&w, (r_id, r_secret, r_key)).await;

        let after = w.victim_state().await;
        for ((path, b), (_, a)) in before.iter().zip(&after) {
            w.check(b == a, || format!("CROSS-ACCOUNT CHANGE: {path} changed during the wrong-caller walk: {b} -> {a}"));
        }
        eprintln!("hostile wrong callers: {cases} cases over {} operations", OPS.len());
        w.finish("wrong callers", started);
    }

    async fn every_operation_refuses_hostile_paths_queries_and_foreign_ids(b: Backend) {
        let w = World::new(&b).await;
        let started = Instant::now();
        let before = w.victim_state().await;
        let mut cases = hostile_path_ids(&w).await;
        cases += hostile_queries(&w).await;
        cases += foreign_ids(&w).await;
        // The attacker's own resources survived every hostile delete.
        let m = &w.mine;
        for path in [
            format!("/api/admin/voice/v1/accounts/AQWSDE/aco-elements/{}", m.aco),
            format!("/api/admin/voice/v1/accounts/AQWSDE/msteams-elements/{}", m.teams),
            format!("/api/admin/voice/v1/accounts/AQWSDE/phone-numbers/{}", m.number),
            format!("/api/admin/account/v1/accounts/AQWSDE/organization-nodes/{}", m.node),
            format!("/api/admin/user/v1/accounts/AQWSDE/profiles/{}", m.profile),
        ] {
            assert_eq!(w.app.get(&path, &w.attacker).await.status(), 200, "{path}");
        }
        let (_, clients) = status_json(w.app.get("/api/admin/account/v1/accounts/AQWSDE/clients", &w.admin).await).await;
        assert!(clients.as_array().unwrap().iter().all(|c| c.get("revokedAt").is_none()), "{clients}");
        let after = w.victim_state().await;
        for ((path, b), (_, a)) in before.iter().zip(&after) {
            w.check(b == a, || format!("CROSS-ACCOUNT CHANGE: {path} changed during the path and query walk: {b} -> {a}"));
        }
        eprintln!("hostile paths and queries: {cases} cases");
        w.finish("paths and queries", started);
    }

    async fn every_operation_refuses_hostile_bodies(b: Backend) {
        let w = World::new(&b).await;
        let started = Instant::now();
        let before = w.victim_state().await;
        let mut cases = hostile_token_forms(&w).await;
        for op in OPS {
            cases += hostile_bodies(&w, op).await;
        }
        let after = w.victim_state().await;
        for ((path, b), (_, a)) in before.iter().zip(&after) {
            w.check(b == a, || format!("CROSS-ACCOUNT CHANGE: {path} changed during the body walk: {b} -> {a}"));
        }
        eprintln!("hostile bodies: {cases} cases");
        w.finish("bodies", started);
    }

    async fn the_table_covers_every_route_and_its_valid_requests_succeed(b: Backend) {
        let started = Instant::now();
        let routed = routed_operations();
        let table: BTreeSet<(String, String)> =
            OPS.iter().map(|op| (op.method.to_owned(), normalise_template(op.path))).collect();
        let missing: Vec<_> = routed.difference(&table).collect();
        let unknown: Vec<_> = table.difference(&routed).collect();
        assert!(missing.is_empty(), "operations routed in src/http but missing from OPS: {missing:?}");
        assert!(unknown.is_empty(), "operations in OPS that no router has: {unknown:?}");

        // Each entry's valid request, by the right caller, in table order.
        let w = World::new(&b).await;
        for op in OPS {
            let req = w.request(op, &w.mine, w.creds_for(op.role, &w.mine));
            let ans = w.expect("valid request", &req, op.ok).await;
            if op.path.ends_with("/events") {
                assert!(ans.content_type.starts_with("text/event-stream"), "{}", ans.content_type);
            }
        }
        w.finish("table", started);
    }
}

/// The token endpoint's wrong callers: other accounts' clients, wrong secrets and
/// appkeys, a revoked client, another account's user and refresh token.
async fn token_endpoint_wrong_callers(w: &World, r: (&str, &str, &str)) -> usize {
    let form = |account: &str, pairs: &[(&str, &str)], appkey: Option<&str>| Req {
        method: Method::POST,
        path: format!("/api/auth/v1/{account}/protocol/openid-connect/token"),
        authorization: None,
        appkey: appkey.map(str::to_owned),
        content_type: Some("application/x-www-form-urlencoded".into()),
        body: Some(serde_urlencoded::to_string(pairs).unwrap().into_bytes()),
    };
    let (a_id, a_secret) = (&w.attacker_client.0, &w.attacker_client.1);
    let a_key = w.attacker.appkey.as_str();
    let (s_id, s_secret, s_key) = (&w.spare.0, &w.spare.1, w.spare.2.as_str());
    let client = |id: &str, secret: &str| {
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), id.to_owned()),
            ("client_secret".to_owned(), secret.to_owned()),
        ]
    };
    let send = |account: &str, pairs: Vec<(String, String)>, appkey: Option<&str>| {
        let p: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        form(account, &p, appkey)
    };
    // The owner's refresh token, which no other client may use.
    let (status, owner_tokens) = status_json(
        w.app
            .token_request(
                "ABCDEF",
                Some("demo-appkey"),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", "demo-client"),
                    ("client_secret", "demo-secret"),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let owner_refresh = owner_tokens["refresh_token"].as_str().unwrap().to_owned();
    let mut password = client(a_id, a_secret);
    password[0].1 = "password".into();
    password.push(("username".into(), "demo-user".into()));
    password.push(("password".into(), "demo-password".into()));
    let mut refresh = client(a_id, a_secret);
    refresh[0].1 = "refresh_token".into();
    refresh.push(("refresh_token".into(), owner_refresh.clone()));
    let cases: Vec<(&str, Req, u16)> = vec![
        (
            "another account's client on the victim's path",
            send("ABCDEF", client(a_id, a_secret), Some(a_key)),
            401,
        ),
        (
            "the victim's client with another client's appkey",
            send("ABCDEF", client("demo-client", "demo-secret"), Some(a_key)),
            401,
        ),
        (
            "wrong secret",
            send("AQWSDE", client(s_id, "guess"), Some(s_key)),
            401,
        ),
        (
            "right secret, another client's appkey",
            send("AQWSDE", client(s_id, s_secret), Some(a_key)),
            401,
        ),
        (
            "right secret, no appkey",
            send("AQWSDE", client(s_id, s_secret), None),
            401,
        ),
        (
            "right secret, empty appkey",
            send("AQWSDE", client(s_id, s_secret), Some("")),
            401,
        ),
        (
            "revoked client",
            send("AQWSDE", client(r.0, r.1), Some(r.2)),
            401,
        ),
        (
            "unknown account",
            send(
                "ZZZZZZ",
                client("demo-client", "demo-secret"),
                Some("demo-appkey"),
            ),
            404,
        ),
        (
            "another account's user",
            send("AQWSDE", password, Some(a_key)),
            401,
        ),
        (
            "another client's refresh token",
            send("AQWSDE", refresh, Some(a_key)),
            401,
        ),
        (
            "a bearer token instead of a secret",
            send("AQWSDE", client(a_id, &w.attacker.token), Some(a_key)),
            401,
        ),
    ];
    let n = cases.len();
    for (case, req, status) in &cases {
        w.expect(case, req, *status).await;
    }
    // The failed refresh did not use up the owner's refresh token.
    let (status, _) = status_json(
        w.app
            .token_request(
                "ABCDEF",
                Some("demo-appkey"),
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", "demo-client"),
                    ("client_secret", "demo-secret"),
                    ("refresh_token", &owner_refresh),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, 200, "the owner's refresh token still works");
    n
}

/// Path segments as URL text: (text, stays one segment). `../` and `%2e%2e` are
/// dot segments that the client resolves away, so they reach another path.
fn hostile_segments() -> Vec<(&'static str, String, bool)> {
    vec![
        ("SQL ' or 1=1", enc("' or 1=1 --"), true),
        ("SQL drop table", enc("\"; drop table account; --"), true),
        (
            "encoded traversal",
            "..%2F..%2F..%2Fetc%2Fpasswd".into(),
            true,
        ),
        ("%2e%2e%2f", "%2e%2e%2f".into(), true),
        ("..%2F", "..%2F".into(), true),
        ("NUL", "%00".into(), true),
        ("invalid UTF-8", "%FF%FE".into(), true),
        ("emoji", enc("\u{1F600}"), true),
        ("RTL override", enc("\u{202e}"), true),
        ("3000 characters", "x".repeat(3000), true),
        ("../", "../".into(), false),
        ("%2e%2e", "%2e%2e".into(), false),
    ]
}

/// Every path id of every operation replaced by each hostile segment.
async fn hostile_path_ids(w: &World) -> usize {
    let mut cases = 0;
    for op in OPS {
        let ctx = &w.mine;
        let creds = w.creds_for(op.role, ctx);
        for (key, field) in PATH_KEYS {
            let Some(at) = op.path.find(key) else {
                continue;
            };
            let in_query = op.path.find('?').is_some_and(|q| q < at);
            for (case, value, stays) in hostile_segments() {
                let path = ctx.fill(&op.path.replace(key, &value));
                let req = w.request_at(op, ctx, path, creds);
                let case = format!("{key} = {case}");
                cases += 1;
                if in_query {
                    // `…/accounts/*/…?filter=accountId={account}`.
                    w.expect_violation(&case, &req, "filter", None).await;
                } else if !stays {
                    let ans = w.call(&case, &req).await;
                    w.check([400, 404, 405].contains(&ans.status), || {
                        format!(
                            "{} [{case}]: expected 400, 404 or 405, got {} {}",
                            req.describe(),
                            ans.status,
                            cut(&ans.text)
                        )
                    });
                } else if value == "%FF%FE" {
                    w.expect_violation(&case, &req, "path", Some(20001)).await;
                } else if let Some(field) = field {
                    w.expect_violation(&case, &req, field, None).await;
                } else if value == "%00" {
                    // Found: `DELETE …/clients/%00` was a 500 on PostgreSQL (the NUL
                    // reached the database). Expected: 404, or a 400 naming the id.
                    let ans = w.call(&case, &req).await;
                    // (A 5xx is reported by `call` already.)
                    w.check(
                        ans.status >= 500 || [400, 404].contains(&ans.status),
                        || {
                            format!(
                                "{} [{case}]: expected 404 or 400, got {} {}",
                                req.describe(),
                                ans.status,
                                cut(&ans.text)
                            )
                        },
                    );
                } else {
                    // Client ids and job kinds are free text: no such one.
                    w.expect(&case, &req, 404).await;
                }
            }
        }
        if op.role == Role::Public {
            let req = w.request_at(
                op,
                ctx,
                format!("{}?x={}&%FF=%00", op.path, enc("' or 1=1 --")),
                None,
            );
            w.expect("hostile query", &req, 200).await;
            cases += 1;
        }
    }
    cases
}

/// What a hostile query must get.
#[derive(Clone, Copy, Debug)]
enum Q {
    /// 400 naming the field, with the code.
    Bad(&'static str, i64),
    /// 200 with no items (and a total of 0 where there is one).
    Empty,
    /// 200 with no items on this page.
    NoItems,
    /// This status.
    Status(u16),
    /// A NUL byte where the rules allow any text: nothing found (200), or a 400 naming
    /// the parameter; never a 5xx. Found: a NUL reached PostgreSQL as a bind
    /// parameter, which it refuses: 500.
    Nul(&'static str),
}

async fn check_query(w: &World, op: &Op, query: &str, expect: Q) {
    let ctx = &w.mine;
    let full = ctx.fill(op.path);
    // The case's parameters replace the operation's own of the same name.
    let (path, own) = full.split_once('?').unwrap_or((&full, ""));
    let keys: Vec<&str> = query
        .split('&')
        .map(|p| p.split('=').next().unwrap())
        .collect();
    let kept = own
        .split('&')
        .filter(|p| !p.is_empty() && !keys.contains(&p.split('=').next().unwrap()));
    let all: Vec<&str> = kept.chain(std::iter::once(query)).collect();
    let req = w.request_at(
        op,
        ctx,
        format!("{path}?{}", all.join("&")),
        w.creds_for(op.role, ctx),
    );
    let case = format!("query {query}");
    match expect {
        Q::Bad(field, code) => w.expect_violation(&case, &req, field, Some(code)).await,
        Q::Status(s) => {
            w.expect(&case, &req, s).await;
        }
        Q::Nul(field) => {
            let ans = w.call(&case, &req).await;
            let ok = match ans.status {
                200 => ans.items().is_some_and(Vec::is_empty),
                400 => ans.violations().iter().any(|(f, _)| f == field),
                _ => false,
            };
            w.check(ok, || {
                format!(
                    "{} [{case}]: expected nothing found or a 400 naming {field}, got {} {}",
                    req.describe(),
                    ans.status,
                    cut(&ans.text)
                )
            });
        }
        Q::Empty | Q::NoItems => {
            let ans = w.expect(&case, &req, 200).await;
            if ans.status == 200 {
                let empty = ans.items().is_some_and(Vec::is_empty);
                let total_ok = matches!(expect, Q::NoItems)
                    || ans.json["pagination"].is_null()
                    || ans.json["pagination"]["total"] == 0;
                w.check(empty && total_ok, || {
                    format!(
                        "{} [{case}]: expected nothing, got {}",
                        req.describe(),
                        cut(&ans.text)
                    )
                });
            }
        }
    }
}

fn op_at(method: &str, path: &str) -> &'static Op {
    OPS.iter()
        .find(|o| o.method == method && o.path == path)
        .unwrap_or_else(|| panic!("no {method} {path} in OPS"))
}

/// Hostile filters, orders, pages and parameters on every operation that reads a query.
async fn hostile_queries(w: &World) -> usize {
    use Q::*;
    let s1 = enc("' or 1=1 --");
    let s2 = enc("\"; drop table account; --");
    let long = "n".repeat(300);
    let victim_digits = w.victim.e164[1..].to_owned();
    let pages: Vec<(String, Q)> = vec![
        ("pageNumber=0".into(), Bad("pageNumber", 20004)),
        ("pageNumber=-1".into(), Bad("pageNumber", 20004)),
        ("pageNumber=1000001".into(), Bad("pageNumber", 20004)),
        ("pageNumber=99999999999".into(), Bad("pageNumber", 20004)),
        (
            "pageNumber=99999999999999999999999".into(),
            Bad("pageNumber", 20001),
        ),
        ("pageNumber=abc".into(), Bad("pageNumber", 20001)),
        ("pageNumber=1.5".into(), Bad("pageNumber", 20001)),
        ("pageNumber=".into(), Bad("pageNumber", 20001)),
        (format!("pageNumber={s1}"), Bad("pageNumber", 20001)),
        ("pageNumber=%00".into(), Nul("pageNumber")),
        ("pageSize=0".into(), Bad("pageSize", 20004)),
        ("pageSize=-1".into(), Bad("pageSize", 20004)),
        ("pageSize=51".into(), Bad("pageSize", 20004)),
        ("pageSize=100000".into(), Bad("pageSize", 20004)),
        ("pageSize=abc".into(), Bad("pageSize", 20001)),
        ("pageSize=1e3".into(), Bad("pageSize", 20001)),
        ("pageNumber=0&pageSize=0".into(), Bad("pageSize", 20004)),
        ("pageNumber=1000000&pageSize=50".into(), NoItems),
    ];
    let paged = [
        op_at("GET", "/api/admin/account/v1/accounts"),
        op_at(
            "GET",
            "/api/admin/voice/v1/accounts/{account}/phone-numbers",
        ),
        op_at(
            "GET",
            "/api/admin/account/v1/accounts/{account}/organization-nodes",
        ),
        op_at(
            "GET",
            "/api/admin/voice/v1/accounts/{account}/available-phone-numbers?countryCode=CA&type=LOCAL",
        ),
        op_at(
            "POST",
            "/api/admin/account/v1/accounts/{account}/audit-records:search",
        ),
    ];
    let mut cases = 0;
    for op in paged {
        for (q, expect) in &pages {
            check_query(w, op, q, *expect).await;
            cases += 1;
        }
    }
    let accounts = op_at("GET", "/api/admin/account/v1/accounts");
    let numbers = paged[1];
    let nodes = paged[2];
    let available = paged[3];
    let audit = paged[4];
    let export = op_at(
        "POST",
        "/api/admin/account/v1/accounts/{account}/audit-records:export",
    );
    let countries = op_at(
        "GET",
        "/api/admin/voice/v1/accounts/{account}/countries?type=LOCAL",
    );
    let by_ids = op_at(
        "POST",
        "/api/admin/voice/v1/accounts/{account}/phone-numbers:list",
    );
    let jobs = op_at("GET", "/_ccadmin/jobs");
    let transitions = op_at("GET", "/_ccadmin/transitions");
    let events = op_at("GET", "/_ccadmin/events");
    let nodes_one = op_at(
        "GET",
        "/api/admin/account/v1/accounts/{account}/organization-nodes/{node}",
    );
    let list: Vec<(&Op, String, Q)> = vec![
        // Accounts (SyncG has 5 letters: `_____` matches it unless `_` is escaped).
        (accounts, format!("filter={s1}"), Bad("filter", 20009)),
        (accounts, format!("filter=name:{s1}"), Empty),
        (
            accounts,
            format!("filter=name={}", enc("' or '1'='1")),
            Empty,
        ),
        (
            accounts,
            format!("filter=name:*{}*", enc("' or '1'='1")),
            Empty,
        ),
        (accounts, format!("filter=name:{s2}"), Empty),
        (accounts, "filter=name:%25".into(), Empty),
        (accounts, "filter=name:_____".into(), Empty),
        (accounts, "filter=name:*%25*".into(), Empty),
        (accounts, "filter=name:*%5C*".into(), Empty),
        (accounts, "filter=name:%00".into(), Nul("filter")),
        (accounts, format!("filter=name:{}", enc("\u{1F600}")), Empty),
        (accounts, format!("filter=name:{}", enc("\u{202e}")), Empty),
        (accounts, "filter=name:..%2F..%2Fetc%2Fpasswd".into(), Empty),
        (accounts, "filter=domainName:%25".into(), Empty),
        (accounts, format!("filter=profileName:{s1}"), Empty),
        (accounts, format!("filter=profileId:{s1}"), Empty),
        (accounts, "filter=accountId:*".into(), Bad("filter", 20009)),
        (
            accounts,
            format!("filter=isDefault:{s1}"),
            Bad("filter", 20005),
        ),
        (
            accounts,
            format!("filter=name:{long}"),
            Bad("filter", 20003),
        ),
        (
            accounts,
            format!("orderBy={}", enc("name; drop table account")),
            Bad("orderBy", 20009),
        ),
        (accounts, format!("orderBy={s1}"), Bad("orderBy", 20009)),
        (
            accounts,
            format!("orderBy={}", enc("name desc, accountId")),
            Bad("orderBy", 20009),
        ),
        (accounts, "query=%ZZ&filter=name:%ZZ".into(), Empty),
        // The attacker's numbers ("Attacker Number Qz" has 18 characters).
        (numbers, format!("filter={s1}"), Bad("filter", 20009)),
        (numbers, format!("filter=displayName:{s1}"), Empty),
        (
            numbers,
            format!("filter=displayName={}", enc("' or '1'='1")),
            Empty,
        ),
        (
            numbers,
            format!("filter=phoneNumber:*{}*", enc("' or '1'='1")),
            Empty,
        ),
        (numbers, format!("filter=displayName:{s2}"), Empty),
        (numbers, "filter=displayName:%25".into(), Empty),
        (
            numbers,
            "filter=displayName:__________________".into(),
            Empty,
        ),
        (numbers, "filter=displayName:*%25*".into(), Empty),
        (numbers, "filter=displayName:%00".into(), Nul("filter")),
        (
            numbers,
            format!("filter=status:ACTIVE,displayName:{s1}"),
            Empty,
        ),
        (
            numbers,
            "filter=accountId=ABCDEF".into(),
            Bad("filter", 20009),
        ),
        (numbers, "filter=displayName:Victim*".into(), Empty),
        (
            numbers,
            format!("filter=phoneNumber:*{victim_digits}*"),
            Empty,
        ),
        (
            numbers,
            format!("filter=displayName:{long}"),
            Bad("filter", 20003),
        ),
        (
            numbers,
            format!("orderBy={}", enc("phoneNumber; drop table phone_number")),
            Bad("orderBy", 20009),
        ),
        // The attacker's nodes.
        (nodes, format!("filter={s1}"), Bad("filter", 20009)),
        (nodes, format!("filter=name:{s1}"), Empty),
        (nodes, format!("filter=name:{s2}"), Empty),
        (nodes, "filter=name:%25".into(), Empty),
        (nodes, "filter=name:Victim*".into(), Empty),
        (nodes, "filter=accountId:ABCDEF".into(), Empty),
        (nodes, "filter=accountId=ABCDEF".into(), Empty),
        (nodes, "filter=name:%00".into(), Nul("filter")),
        (nodes, format!("filter=name:{long}"), Bad("filter", 20003)),
        (nodes, format!("children={s1}"), Bad("children", 20001)),
        (nodes, format!("orderBy={s1}"), Bad("orderBy", 20009)),
        (nodes_one, format!("children={s1}"), Bad("children", 20001)),
        // Available numbers: the victim's number is held, so not available.
        (
            available,
            format!("phoneNumber={s1}"),
            Bad("phoneNumber", 20006),
        ),
        (
            available,
            "phoneNumber=%25".into(),
            Bad("phoneNumber", 20006),
        ),
        (available, "phoneNumber=%00".into(), Nul("phoneNumber")),
        (
            available,
            "phoneNumber=%2B".into(),
            Bad("phoneNumber", 20006),
        ),
        (available, format!("phoneNumber={victim_digits}"), Empty),
        (available, format!("areaCode={s1}"), Bad("areaCode", 20003)),
        (available, "areaCode=%25".into(), Empty),
        (available, "areaCode=_".into(), Empty),
        (available, "areaCode=%00".into(), Nul("areaCode")),
        (countries, format!("type={s1}"), Bad("type", 20005)),
        (countries, "type=%00".into(), Nul("type")),
        (by_ids, format!("orderBy={s1}"), Bad("orderBy", 20009)),
        (audit, format!("orderBy={s1}"), Bad("orderBy", 20009)),
        (audit, format!("orderBy={long}"), Bad("orderBy", 20003)),
        (export, format!("orderBy={s1}"), Bad("orderBy", 20009)),
        // Emulator filters: no job or transition matches.
        (jobs, format!("accountId={s1}"), Empty),
        (jobs, format!("state={s2}"), Empty),
        (jobs, "accountId=%00".into(), Nul("accountId")),
        (jobs, "state=%00".into(), Nul("state")),
        (transitions, "accountId=%00".into(), Nul("accountId")),
        (transitions, "resourceKind=%00".into(), Nul("resourceKind")),
        (transitions, "resourceId=%00".into(), Nul("resourceId")),
        (accounts, "filter=domainName:%00".into(), Nul("filter")),
        (accounts, "filter=profileName:%00".into(), Nul("filter")),
        (accounts, "filter=accountId=%00".into(), Nul("filter")),
        (numbers, "filter=phoneNumber=%00".into(), Nul("filter")),
        (numbers, "filter=status:%00".into(), Nul("filter")),
        (jobs, "limit=0".into(), Bad("limit", 20004)),
        (jobs, "limit=abc".into(), Bad("limit", 20004)),
        (jobs, "limit=99999999999".into(), Bad("limit", 20004)),
        (transitions, format!("accountId={s1}"), Empty),
        (transitions, "resourceKind=..%2F..%2F".into(), Empty),
        (transitions, format!("resourceId={s2}"), Empty),
        (transitions, "after=abc".into(), Bad("after", 20001)),
        (
            transitions,
            "after=99999999999999999999".into(),
            Bad("after", 20001),
        ),
        (transitions, "limit=-1".into(), Bad("limit", 20004)),
        (events, "after=abc".into(), Bad("after", 20001)),
        (events, format!("after={s1}"), Bad("after", 20001)),
    ];
    for (op, q, expect) in &list {
        check_query(w, op, q, *expect).await;
        cases += 1;
    }
    // Whole-query replacements of available numbers' required parameters.
    let avail = "/api/admin/voice/v1/accounts/AQWSDE/available-phone-numbers";
    // (Any code for the NUL: the fix of the NUL bug may refuse it before the pattern.)
    for (q, field, code) in [
        (
            format!("countryCode={s1}&type=LOCAL"),
            "countryCode",
            Some(20006),
        ),
        ("countryCode=%00&type=LOCAL".to_owned(), "countryCode", None),
        (
            format!("countryCode=CA&type={}", enc("LOCAL' or '1'='1")),
            "type",
            Some(20005),
        ),
        ("type=LOCAL".to_owned(), "countryCode", Some(20002)),
    ] {
        let req = w.request_at(
            available,
            &w.mine,
            format!("{avail}?{q}"),
            Some(&w.attacker),
        );
        w.expect_violation(&format!("query {q}"), &req, field, code)
            .await;
        cases += 1;
    }
    // `*` as the account: the filter names it.
    let star = op_at(
        "POST",
        "/api/admin/voice/v1/accounts/*/phone-numbers:getByPhoneNumbers?filter=accountId={account}",
    );
    for (q, expect) in [
        (format!("filter={s1}"), Bad("filter", 20002)),
        (format!("filter=accountId={s1}"), Bad("filter", 20006)),
        ("filter=accountId=ZZZZZZ".to_owned(), Status(404)),
        ("filter=accountId=%00".to_owned(), Nul("filter")),
    ] {
        let req = w.request_at(
            star,
            &w.mine,
            format!("/api/admin/voice/v1/accounts/*/phone-numbers:getByPhoneNumbers?{q}"),
            Some(&w.admin),
        );
        match expect {
            Bad(f, c) => w.expect_violation(&q, &req, f, Some(c)).await,
            // A batch of the account's own number: refused, whatever the code.
            Nul(f) => w.expect_violation(&q, &req, f, None).await,
            Status(s) => {
                w.expect(&q, &req, s).await;
            }
            _ => unreachable!(),
        }
        cases += 1;
    }
    cases
}

/// The victim's ids, numbers, names and profiles on the attacker's own paths.
async fn foreign_ids(w: &World) -> usize {
    let (m, v) = (&w.mine, &w.victim);
    // The attacker's context, with the victim's resource ids.
    let crossed = Ctx {
        aco: v.aco.clone(),
        teams: v.teams.clone(),
        number: v.number.clone(),
        e164: v.e164.clone(),
        node: v.node.clone(),
        profile: v.profile.clone(),
        client: v.client.clone(),
        ..m.clone()
    };
    let mut cases = 0;
    for op in OPS {
        let uses_foreign = [
            "{aco}",
            "{teams}",
            "{number}",
            "{node}",
            "{profile}",
            "{client}",
        ]
        .iter()
        .any(|k| {
            op.path.contains(k)
                || matches!(op.body, Payload::Json(t) | Payload::Array(t) if t.contains(k))
        }) || matches!(op.body, Payload::Array(t) if t.contains("{e164}"));
        if !uses_foreign {
            continue;
        }
        let req = w.request(op, &crossed, w.creds_for(op.role, &crossed));
        let ans = w.call("the victim's id on the attacker's path", &req).await;
        cases += 1;
        let ok = match op.body {
            Payload::Array(_) if op.path.ends_with(":validate") => {
                ans.status == 200
                    && ans.json["valid"] == json!([])
                    && ans.json["invalid"][0]["message"] == "Doesn't exist in database"
            }
            Payload::Array(_) => ans.status == 200 && ans.json == json!([]),
            _ => ans.status == 404,
        };
        w.check(ok, || {
            format!(
                "{} [the victim's id on the attacker's path]: got {} {}",
                req.describe(),
                ans.status,
                cut(&ans.text)
            )
        });
    }
    let acc = "/api/admin/account/v1/accounts/AQWSDE";
    let post = |path: String, body: Value, creds: &Creds| {
        Req {
            method: Method::POST,
            path,
            authorization: None,
            appkey: None,
            content_type: Some("application/json".into()),
            body: Some(body.to_string().into_bytes()),
        }
        .as_creds(creds)
    };
    let attacker = &w.attacker;
    let put_account = Req {
        method: Method::PUT,
        ..post(
            acc.into(),
            json!({"name": "SyncG", "domains": [{"domainName": "avaya.com"}], "accountSize": 10, "profiles": [{"profileId": v.profile}]}),
            attacker,
        )
    };
    w.expect_violation(
        "the victim's profile in the attacker's account",
        &put_account,
        "profiles[0].profileId",
        Some(20005),
    )
    .await;
    let nodes = format!("{acc}/organization-nodes");
    w.expect_violation(
        "the victim's profile on the attacker's node",
        &post(nodes.clone(), json!({"name": "Probe Node", "parentPath": "SyncG", "profiles": [{"profileId": v.profile}]}), attacker),
        "profiles[0].profileId",
        Some(20005),
    )
    .await;
    // In either form of the root (the seed's `Account<name>`, the bare name).
    for parent in [
        v.root.clone(),
        format!("{}/{}", v.root, v.node_name),
        format!("Account{}", v.root),
        format!("Account{}/{}", v.root, v.node_name),
    ] {
        w.expect(
            "the victim's hierarchy as parent",
            &post(
                nodes.clone(),
                json!({"name": "Probe Node", "parentPath": parent}),
                attacker,
            ),
            404,
        )
        .await;
    }
    w.expect_violation(
        "the victim's number added to the attacker's account",
        &post(
            "/api/admin/voice/v1/accounts/AQWSDE/phone-numbers".into(),
            json!({"phoneNumber": v.e164}),
            attacker,
        ),
        "phoneNumber",
        Some(20005),
    )
    .await;
    let ans = w
        .expect(
            "the victim's names as audit keyword",
            &post(format!("{acc}/audit-records:search"), json!({"startDate": "2000-01-01T00:00:00Z", "endDate": "2999-01-01T00:00:00Z", "type": "ACCOUNT", "searchKeyword": "victim"}), attacker),
            200,
        )
        .await;
    w.check(ans.json["pagination"]["total"] == 0, || {
        format!("audit keyword 'victim' found records: {}", cut(&ans.text))
    });
    w.expect(
        "the victim's account among the attacker's statuses",
        &post(
            "/api/admin/account/v1/accounts:listStatuses".into(),
            json!({"accountIds": ["AQWSDE", "ABCDEF"]}),
            attacker,
        ),
        403,
    )
    .await;
    // The seven cases above.
    cases + 7
}

/// Sends `body` in place of `req`'s and expects a 400 naming `field` (any code if `None`),
/// or just 400 when `field` is empty.
async fn bad_body(
    w: &World,
    case: &str,
    req: &Req,
    body: impl Into<Vec<u8>>,
    field: &str,
    code: Option<i64>,
) {
    let req = req.with_body(Some("application/json"), body);
    if field.is_empty() {
        w.expect(case, &req, 400).await;
    } else {
        w.expect_violation(case, &req, field, code).await;
    }
}

/// Every hostile body of one operation, in the attacker's account.
async fn hostile_bodies(w: &World, op: &Op) -> usize {
    let (Payload::Json(t) | Payload::Array(t)) = op.body else {
        return 0;
    };
    let array = matches!(op.body, Payload::Array(_));
    let ctx = &w.mine;
    let base = w.request(op, ctx, w.creds_for(op.role, ctx));
    let valid: Value = serde_json::from_str(&ctx.fill(t)).unwrap();
    let mut cases = 0;

    for ct in [
        Some("text/plain"),
        Some("application/xml"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        w.expect(
            &format!("content type {ct:?}"),
            &base.with_body(ct, valid.to_string()),
            415,
        )
        .await;
        cases += 1;
    }
    // An empty body of the reset means "everything": it is no hostile input there.
    if op.path != "/_ccadmin/reset" {
        let code = if array { 20001 } else { 20002 };
        bad_body(w, "empty body", &base, "", "body", Some(code)).await;
        bad_body(w, "blank body", &base, " \n\t ", "body", Some(code)).await;
        cases += 2;
    }
    let other_shapes: &[&str] = if array {
        &[r#"{"a": 1}"#, r#""str""#, "42", "null", "true"]
    } else {
        &["[1, 2]", r#""str""#, "42", "null", "true"]
    };
    let malformed: &[&[u8]] = &[
        br#"{"name": "#,
        br#"["a", "#,
        b"{\"a\": 1,}",
        b"[\"a\",]",
        b"{'single': 'quotes'}",
        b"[\"\xff\xfe\"]",
        b"\xef\xbb\xbf{}",
    ];
    // Valid JSON followed by more: not JSON. (`{} trailing` would be a reset of
    // everything on `/_ccadmin/reset`, so only the valid body is followed there.)
    let mut trailing = vec![format!("{valid} trailing"), format!("{valid}{valid}")];
    if array {
        trailing.push("[] trailing".into());
    } else if op.path != "/_ccadmin/reset" {
        trailing.push("{} trailing".into());
    }
    for body in trailing {
        // Found: `Body::json`/`json_array` (src/http/extract.rs) ignored what
        // followed the first JSON value, so these were read as the valid body and the
        // operation ran. Expected: 400 (`body`, 20001).
        bad_body(
            w,
            "JSON followed by garbage",
            &base,
            body,
            "body",
            Some(20001),
        )
        .await;
        cases += 1;
    }
    for shape in other_shapes {
        bad_body(w, "another JSON shape", &base, *shape, "body", Some(20001)).await;
        cases += 1;
    }
    for bytes in malformed {
        let starts_right = bytes.first() == Some(if array { &b'[' } else { &b'{' });
        if starts_right {
            // Parsed: malformed JSON at the body, or (1e999999, NaN …) whatever the
            // parser names; never anything but a 400.
            bad_body(w, "malformed JSON", &base, *bytes, "", None).await;
        } else {
            bad_body(w, "malformed JSON", &base, *bytes, "body", Some(20001)).await;
        }
        cases += 1;
    }
    // Over 1 MiB.
    let big = if array {
        format!(r#"["{}"]"#, "x".repeat(1024 * 1024))
    } else {
        format!(r#"{{"name": "{}"}}"#, "x".repeat(1024 * 1024))
    };
    w.expect(
        "body over 1 MiB",
        &base.with_body(Some("application/json"), big),
        413,
    )
    .await;
    cases += 1;
    // Deep nesting: 10,000 levels, of arrays and of objects, at the top and inside a
    // known field. The parser's recursion limit answers, never the stack.
    let depth = 10_000;
    let in_known_field = {
        let mut v = valid.clone();
        let field = op
            .texts
            .first()
            .map(|(f, _)| *f)
            .or(op.types.first().map(|(f, _)| *f))
            .unwrap_or("x");
        set_path(&mut v, field, json!("@@DEEP@@"));
        v.to_string()
            .replace("\"@@DEEP@@\"", &nested("[", "", "]", depth))
    };
    for (case, body) in [
        ("10,000 nested arrays", nested("[", "", "]", depth)),
        ("10,000 nested arrays in a known field", in_known_field),
    ] {
        bad_body(w, case, &base, body, "", None).await;
        cases += 1;
    }
    if array {
        bad_body(
            w,
            "10,000 nested objects",
            &base,
            nested("{\"a\":", "1", "}", depth),
            "body",
            Some(20001),
        )
        .await;
        cases += 1;
    } else {
        // The valid body with one more member, which the server ignores as unknown: it
        // must still be JSON, and no deeper than the limit. (Added to the valid body,
        // not alone: `{}` on `/_ccadmin/reset` would reset everything.)
        let valid_text = valid.to_string();
        let with_member = |member: &[u8]| {
            let mut b = valid_text.as_bytes()[..valid_text.len() - 1].to_vec();
            b.extend_from_slice(b", \"ignored\": ");
            b.extend_from_slice(member);
            b.push(b'}');
            b
        };
        // Found: serde_json skips an unknown member without the checks it applies to
        // the fields it reads (UTF-8, nesting depth), so these three ran the
        // operation. Expected: 400.
        for (case, member) in [
            (
                "invalid UTF-8 in an ignored member",
                b"\"\xff\xfe\"".to_vec(),
            ),
            (
                "10,000 nested arrays in an ignored member",
                nested("[", "", "]", depth).into_bytes(),
            ),
            (
                "10,000 nested objects in an ignored member",
                nested("{\"a\":", "1", "}", depth).into_bytes(),
            ),
            ("NaN in an ignored member", b"NaN".to_vec()),
            ("a trailing comma after an ignored member", b"1,".to_vec()),
        ] {
            bad_body(w, case, &base, with_member(&member), "", None).await;
            cases += 1;
        }
        // Valid JSON (a number beyond f64's range): any answer but a 5xx.
        w.call(
            "1e999999 in an ignored member",
            &base.with_body(Some("application/json"), with_member(b"1e999999")),
        )
        .await;
        cases += 1;
    }
    if array {
        // More than 1000 items (well under 1 MiB).
        let many = serde_json::to_string(&vec!["x"; 1001]).unwrap();
        let field = if op.path.contains("getByPhoneNumbers") {
            "phoneNumbers"
        } else {
            "phoneNumberIds"
        };
        bad_body(w, "1001 items", &base, many, field, Some(20007)).await;
        bad_body(
            w,
            "null item",
            &base,
            "[null]",
            &format!("{field}[0]"),
            Some(20002),
        )
        .await;
        cases += 2;
    }
    // Wrongly typed fields: one violation at the field's path, 20001.
    for (field, wrong) in op.types {
        let mut v = valid.clone();
        set_path(&mut v, field, serde_json::from_str(wrong).unwrap());
        let req = base.with_body(Some("application/json"), v.to_string());
        let case = format!("{field} = {wrong}");
        let ans = w.expect(&case, &req, 400).await;
        w.check(
            ans.status != 400 || ans.violations() == vec![(field.to_string(), 20001)],
            || {
                format!(
                    "{} [{case}]: expected one violation of {field}, 20001: {}",
                    req.describe(),
                    cut(&ans.text)
                )
            },
        );
        cases += 1;
    }
    // Edge values of name-like fields.
    for (field, accepts) in op.texts {
        // A lone surrogate cannot be a Rust string: it is written into the JSON text.
        let mut v = valid.clone();
        set_path(&mut v, field, json!("@@SURROGATE@@"));
        let text = v.to_string().replace("@@SURROGATE@@", "Hostile\\ud800");
        bad_body(
            w,
            &format!("{field} = lone surrogate"),
            &base,
            text,
            "body",
            Some(20001),
        )
        .await;
        cases += 1;
        for letter in EDGE_LETTERS.chars() {
            let (name, value) = edge(letter);
            let mut v = valid.clone();
            if op.method == "POST" {
                unique_create(w, op, &mut v, field).await;
            }
            set_path(&mut v, field, json!(value));
            let req = base.with_body(Some("application/json"), v.to_string());
            let case = format!("{field} = {name}");
            cases += 1;
            if accepts.contains(letter) {
                let ans = w.call(&case, &req).await;
                // Found (PostgreSQL, and SQLite for `searchKeyword`): where the rules
                // allow any text, a NUL byte reached the database and was a 500.
                // Either fix is correct: store it, or refuse it with a 400 naming the
                // field; never a 5xx.
                if letter == 'N' && ans.status == 400 {
                    let vs = ans.violations();
                    w.check(vs.iter().any(|(f, _)| f == field), || {
                        format!(
                            "{} [{case}]: a 400 must name {field}: {vs:?}",
                            req.describe()
                        )
                    });
                    continue;
                }
                // (A 5xx is reported by `call` already.)
                w.check(
                    ans.status >= 500 || [200, 201, 202, 404, 409].contains(&ans.status),
                    || {
                        format!(
                            "{} [{case}]: the rules allow it, so not {}: {}",
                            req.describe(),
                            ans.status,
                            cut(&ans.text)
                        )
                    },
                );
                // What was accepted is stored and answered as sent.
                if (200..300).contains(&ans.status) && ans.json.get(field).is_some() {
                    w.check(ans.json[field] == json!(value), || {
                        format!(
                            "{} [{case}]: answered {} for what was sent",
                            req.describe(),
                            ans.json[field]
                        )
                    });
                }
                // A replacement is undone, so later cases start from the same state.
                if op.method == "PUT" && (200..300).contains(&ans.status) {
                    let ans = w.call("restore", &base).await;
                    assert!((200..300).contains(&ans.status), "restore: {}", ans.text);
                }
            } else {
                w.expect_violation(&case, &req, field, None).await;
            }
        }
    }
    cases
}

/// Makes a create's body unique (a new name, an available number), so that an edge
/// value the rules accept reaches the database instead of a 409.
async fn unique_create(w: &World, op: &Op, body: &mut Value, field: &str) {
    let n = w.requests.load(Ordering::Relaxed);
    for key in ["name", "profileName"] {
        if key != field
            && let Some(name) = body[key].as_str()
        {
            body[key] = json!(format!("{name} {n}"));
        }
    }
    if op.path.ends_with("/phone-numbers") && field != "phoneNumber" {
        let (_, page) = status_json(
            w.app
                .get(
                    "/api/admin/voice/v1/accounts/AQWSDE/available-phone-numbers?countryCode=CA&type=LOCAL&pageSize=1",
                    &w.attacker,
                )
                .await,
        )
        .await;
        body["phoneNumber"] = page["phoneNumbers"][0]["phoneNumber"].clone();
    }
}

/// A token request with an edge value in `field` that names nothing: 401 with the
/// OAuth2 `error`. Found (PostgreSQL): a NUL byte in `client_id` or `username`
/// reached the database and was a 500; refusing a NUL with a 400 naming the field is
/// as correct as the 401.
async fn token_refused(w: &World, letter: char, field: &str, req: &Req, error: &str) {
    let case = format!("{field} = {}", edge(letter).0);
    let ans = w.call(&case, req).await;
    let ok = match ans.status {
        401 => ans.json["error"] == error,
        400 if letter == 'N' => ans.violations().iter().any(|(f, _)| f == field),
        _ => false,
    };
    w.check(ans.status >= 500 || ok, || {
        format!(
            "{} [{case}]: expected 401 {error}, got {} {}",
            req.describe(),
            ans.status,
            cut(&ans.text)
        )
    });
}

/// The token endpoint's hostile forms.
async fn hostile_token_forms(w: &World) -> usize {
    let op = op_at(
        "POST",
        "/api/auth/v1/{account}/protocol/openid-connect/token",
    );
    let base = w.request(op, &w.mine, None);
    let form = Some("application/x-www-form-urlencoded");
    let (a_id, a_secret) = (w.attacker_client.0.as_str(), w.attacker_client.1.as_str());
    let (s_id, s_key) = (w.spare.0.as_str(), w.spare.2.as_str());
    let mut cases = 0;
    let body = String::from_utf8(base.body.clone().unwrap()).unwrap();
    w.expect(
        "json content type",
        &base.with_body(
            Some("application/json"),
            r#"{"grant_type": "client_credentials"}"#,
        ),
        415,
    )
    .await;
    w.expect("no content type", &base.with_body(None, body.clone()), 415)
        .await;
    w.expect(
        "form over 1 MiB",
        &base.with_body(form, format!("{body}&pad={}", "x".repeat(1024 * 1024))),
        413,
    )
    .await;
    w.expect_violation(
        "empty form",
        &base.with_body(form, ""),
        "grant_type",
        Some(20002),
    )
    .await;
    w.expect("garbage form", &base.with_body(form, "%%%&&&==\u{0}"), 400)
        .await;
    w.expect(
        "nested brackets",
        &base.with_body(form, nested("[", "", "]", 10_000)),
        400,
    )
    .await;
    cases += 6;
    let with =
        |pairs: &[(&str, &str)]| base.with_body(form, serde_urlencoded::to_string(pairs).unwrap());
    for letter in EDGE_LETTERS.chars() {
        let (name, value) = edge(letter);
        let v = value.as_str();
        // An unsupported grant type.
        w.expect_violation(
            &format!("grant_type = {name}"),
            &with(&[
                ("grant_type", v),
                ("client_id", a_id),
                ("client_secret", a_secret),
            ]),
            "grant_type",
            Some(20005),
        )
        .await;
        // No such client (unknown clients are not counted as failures).
        let req = with(&[
            ("grant_type", "client_credentials"),
            ("client_id", v),
            ("client_secret", a_secret),
        ]);
        token_refused(w, letter, "client_id", &req, "invalid_client").await;
        // No such user, no such refresh token.
        let req = with(&[
            ("grant_type", "password"),
            ("client_id", a_id),
            ("client_secret", a_secret),
            ("username", v),
            ("password", v),
        ]);
        token_refused(w, letter, "username", &req, "invalid_grant").await;
        let req = with(&[
            ("grant_type", "refresh_token"),
            ("client_id", a_id),
            ("client_secret", a_secret),
            ("refresh_token", v),
        ]);
        token_refused(w, letter, "refresh_token", &req, "invalid_grant").await;
        cases += 4;
    }
    // Wrong secrets are counted: the spare client takes them, and after the fifth its
    // logins pause (429), which is also a refusal.
    for letter in EDGE_LETTERS.chars() {
        let (name, value) = edge(letter);
        let req = with(&[
            ("grant_type", "client_credentials"),
            ("client_id", s_id),
            ("client_secret", &value),
        ])
        .with_auth(None, Some(s_key.to_owned()));
        let ans = w.call(&format!("client_secret = {name}"), &req).await;
        let nul_refused = letter == 'N'
            && ans.status == 400
            && ans.violations().iter().any(|(f, _)| f == "client_secret");
        w.check(
            ans.status >= 500 || nul_refused || [401, 429].contains(&ans.status),
            || {
                format!(
                    "{} [client_secret = {name}]: {} {}",
                    req.describe(),
                    ans.status,
                    cut(&ans.text)
                )
            },
        );
        cases += 1;
    }
    cases
}
