//! The HTTP side of listings: query parsing into the domain's page, filter and order,
//! and the `pagination` and `links` objects of list answers.

use serde::Serialize;

use super::error::ApiError;
use super::extract::QueryParams;
use crate::domain::listing::{Page, PageRules};

/// The spec's `Pagination`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page_number: u32,
    pub page_size: u32,
    pub total: i64,
}

/// The spec's `Links`: always strings, `""` when there is no such page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Links {
    pub prev: String,
    pub next: String,
}

/// Reads `pageNumber` and `pageSize` with an endpoint's rules.
pub fn page(query: &QueryParams, rules: PageRules) -> Result<Page, ApiError> {
    Page::parse(rules, query.get("pageNumber"), query.get("pageSize")).map_err(ApiError::validation)
}

/// The pagination and links of one page of `total` results at `path`. The links keep
/// every query parameter of the request, with `pageNumber` replaced and `pageSize`
/// made explicit, so that a client can follow them as they are.
pub fn paginate(path: &str, query: &QueryParams, page: Page, total: i64) -> (Pagination, Links) {
    let link = |number: u32| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        let mut wrote_number = false;
        let mut wrote_size = false;
        for (k, v) in query.pairs() {
            match k.as_str() {
                "pageNumber" if !wrote_number => {
                    ser.append_pair(k, &number.to_string());
                    wrote_number = true;
                }
                "pageSize" if !wrote_size => {
                    ser.append_pair(k, &page.size.to_string());
                    wrote_size = true;
                }
                "pageNumber" | "pageSize" => {}
                _ => {
                    ser.append_pair(k, v);
                }
            }
        }
        if !wrote_number {
            ser.append_pair("pageNumber", &number.to_string());
        }
        if !wrote_size {
            ser.append_pair("pageSize", &page.size.to_string());
        }
        format!("{path}?{}", ser.finish())
    };
    let prev = if page.number > 1 {
        link(page.number - 1)
    } else {
        String::new()
    };
    let next = if page.has_next(total) {
        link(page.number + 1)
    } else {
        String::new()
    };
    (
        Pagination {
            page_number: page.number,
            page_size: page.size,
            total,
        },
        Links { prev, next },
    )
}
