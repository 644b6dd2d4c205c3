//! The public, read-only RDAP service at `/rdap/` (RFC 7480 over HTTP, RFC 9082 queries, RFC
//! 9083 responses): who holds an IPv4 address or block now, since when, and each finalized
//! transfer of that space with a link to its ledger entry; organisations and registries as
//! entities; help; RDAP error objects for every refusal.
//!
//! Anonymous and cheap by construction: every answer is read through `services::lookup` (the
//! same reads as the block lookup page) with index seeks only, built in memory, and sent as one
//! small body, so no database connection waits on a slow reader. Bad input of any kind is a
//! 400 (malformed) or 404 (nothing held there) RDAP error, never an HTML page or a 500.

mod objects;
#[cfg(test)]
mod tests;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};
use tower_http::set_header::SetResponseHeaderLayer;

use self::objects::{
    EntityHandle, Urls, held_network, inventory_network, org_entity, registry_entity, top_level,
};
use super::AppState;
use crate::db::holdings::range_of;
use crate::domain::Ipv4Range;
use crate::error::AppError;
use crate::services::lookup::{self, Registration};

/// What this server implements: the base protocol and the NRO's `cidr0_cidrs` member.
const CONFORMANCE: [&str; 2] = ["rdap_level_0", "cidr0"];
/// The media type of every answer (RFC 7480 section 4.2).
const RDAP_JSON: &str = "application/rdap+json";
/// Transfer events listed per network (the newest ones; a remark says when there are more).
const MAX_TRANSFERS: u64 = 100;
/// Longest path segment read; anything longer is not an address or a handle we issue.
const MAX_SEGMENT: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rdap/ip/{address}", get(ip).fallback(wrong_method))
        .route(
            "/rdap/ip/{prefix}/{length}",
            get(ip_prefix).fallback(wrong_method),
        )
        .route("/rdap/entity/{handle}", get(entity).fallback(wrong_method))
        .route("/rdap/help", get(help).fallback(wrong_method))
        // Everything else under /rdap/ is answered as RDAP too, never with the HTML 404 page.
        .route("/rdap", any(unsupported))
        .route("/rdap/", any(unsupported))
        .route("/rdap/{*rest}", any(unsupported))
        // RFC 7480 section 5.6: any web page may read RDAP answers.
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
}

/// An RDAP error response (RFC 9083 section 6): the HTTP status as `errorCode`, a title and
/// what to do about it.
#[derive(Debug)]
pub struct RdapError {
    status: StatusCode,
    title: &'static str,
    description: String,
}

impl RdapError {
    fn bad_request(description: impl Into<String>) -> Self {
        RdapError {
            status: StatusCode::BAD_REQUEST,
            title: "Malformed query",
            description: description.into(),
        }
    }

    fn not_found(description: impl Into<String>) -> Self {
        RdapError {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            description: description.into(),
        }
    }
}

impl From<AppError> for RdapError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(m) => RdapError::not_found(m),
            AppError::BadRequest(m) | AppError::Invalid(m) => RdapError::bad_request(m),
            other => {
                tracing::error!(error = %other, "RDAP request failed");
                RdapError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    title: "Server error",
                    description: "The error was logged. Please try again in a moment.".into(),
                }
            }
        }
    }
}

impl IntoResponse for RdapError {
    fn into_response(self) -> Response {
        let body = json!({
            "rdapConformance": CONFORMANCE,
            "errorCode": self.status.as_u16(),
            "title": self.title,
            "description": [self.description],
        });
        rdap_response(self.status, &body)
    }
}

fn rdap_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(RDAP_JSON))],
        body.to_string(),
    )
        .into_response()
}

type RdapResult = Result<Response, RdapError>;

/// A path segment as text: a segment axum cannot decode, or an over-long one, is malformed.
fn segment(path: Result<Path<String>, PathRejection>) -> Result<String, RdapError> {
    let Path(s) = path.map_err(|_| RdapError::bad_request("The query is not valid UTF-8."))?;
    if s.len() > MAX_SEGMENT {
        return Err(RdapError::bad_request(format!(
            "A query segment may have at most {MAX_SEGMENT} characters."
        )));
    }
    Ok(s)
}

/// What an `ip` query asks for: an IPv4 range, or space this server cannot hold (IPv6).
#[derive(Debug, PartialEq, Eq)]
enum IpQuery {
    V4(Ipv4Range),
    V6,
}

/// `/ip/{address}`: one IPv4 or IPv6 address in its usual text form.
fn parse_address(s: &str) -> Result<IpQuery, RdapError> {
    if let Ok(a) = s.parse::<std::net::Ipv4Addr>() {
        let a = u32::from(a);
        return Ipv4Range::new(a, a)
            .map(IpQuery::V4)
            .map_err(|e| RdapError::bad_request(e.to_string()));
    }
    if s.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(IpQuery::V6);
    }
    Err(RdapError::bad_request(format!(
        "{s:?} is not an IPv4 or IPv6 address (four decimal numbers 0-255 without leading zeros, \
         such as 192.0.2.1)."
    )))
}

/// `/ip/{prefix}/{length}`: a CIDR block whose address is its first address.
fn parse_prefix(prefix: &str, length: &str) -> Result<IpQuery, RdapError> {
    let digits =
        !length.is_empty() && length.len() <= 3 && length.bytes().all(|b| b.is_ascii_digit());
    if prefix.parse::<std::net::Ipv6Addr>().is_ok() {
        return match length.parse::<u8>() {
            Ok(l) if digits && l <= 128 => Ok(IpQuery::V6),
            _ => Err(RdapError::bad_request(format!(
                "{length:?} is not an IPv6 prefix length (0-128)."
            ))),
        };
    }
    if prefix.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(RdapError::bad_request(format!(
            "{prefix:?} is not an IPv4 or IPv6 address."
        )));
    }
    if !digits {
        return Err(RdapError::bad_request(format!(
            "{length:?} is not a prefix length (0-32)."
        )));
    }
    format!("{prefix}/{length}")
        .parse::<Ipv4Range>()
        .map(IpQuery::V4)
        .map_err(|e| RdapError::bad_request(e.to_string()))
}

async fn ip(
    State(app): State<AppState>,
    address: Result<Path<String>, PathRejection>,
) -> RdapResult {
    let address = segment(address)?;
    answer_ip(&app, parse_address(&address)?, &format!("ip/{address}")).await
}

async fn ip_prefix(
    State(app): State<AppState>,
    parts: Result<Path<(String, String)>, PathRejection>,
) -> RdapResult {
    let Path((prefix, length)) =
        parts.map_err(|_| RdapError::bad_request("The query is not valid UTF-8."))?;
    if prefix.len() > MAX_SEGMENT || length.len() > MAX_SEGMENT {
        return Err(RdapError::bad_request("The query is too long."));
    }
    let query = parse_prefix(&prefix, &length)?;
    answer_ip(&app, query, &format!("ip/{prefix}/{length}")).await
}

async fn answer_ip(app: &AppState, query: IpQuery, path: &str) -> RdapResult {
    let range = match query {
        IpQuery::V4(range) => range,
        IpQuery::V6 => {
            return Err(RdapError::not_found(
                "ipxfer registers IPv4 space only: no IPv6 network is held here.",
            ));
        }
    };
    let urls = Urls::new(&app.settings.base_url);
    let Some(registration) = lookup::containing(&app.db, range).await? else {
        let asked = match range.size() {
            1 => range.first().to_string(),
            _ => range.to_string(),
        };
        return Err(RdapError::not_found(format!(
            "No single holding or registry block contains {asked}: it is not registered here, \
             or it spans several registrations (ask for a smaller block)."
        )));
    };
    let body = match registration {
        Registration::Held(held) => {
            let held_range =
                range_of(held.holding.start_addr, held.holding.end_addr).map_err(AppError::from)?;
            let history = lookup::history(&app.db, held_range, None, MAX_TRANSFERS + 1).await?;
            held_network(&urls, path, &held.holding, &held.holder, &history)?
        }
        Registration::Inventory { registry, block } => {
            inventory_network(&urls, path, registry, &block)?
        }
    };
    Ok(rdap_response(StatusCode::OK, &body))
}

async fn entity(
    State(app): State<AppState>,
    handle: Result<Path<String>, PathRejection>,
) -> RdapResult {
    let handle = segment(handle)?;
    let urls = Urls::new(&app.settings.base_url);
    let body = match EntityHandle::parse(&handle) {
        Some(EntityHandle::Registry(rir)) => top_level(registry_entity(&urls, rir, None), &urls),
        Some(EntityHandle::Organisation(rir, org_handle)) => {
            // Handles are compared as issued; clients that lower-case them still find them.
            let mut org = lookup::organisation(&app.db, rir, org_handle).await?;
            if org.is_none() && org_handle != org_handle.to_uppercase() {
                org = lookup::organisation(&app.db, rir, &org_handle.to_uppercase()).await?;
            }
            let org = org.ok_or_else(|| unknown_entity(&handle))?;
            top_level(org_entity(&urls, &org, None)?, &urls)
        }
        None => return Err(unknown_entity(&handle)),
    };
    Ok(rdap_response(StatusCode::OK, &body))
}

fn unknown_entity(handle: &str) -> RdapError {
    RdapError::not_found(format!(
        "There is no entity {handle:?}. Organisations are named HANDLE-REGISTRY (for example \
         A92319D5-APNIC); registries as AFRINIC, APNIC, ARIN, LACNIC or RIPE-NCC."
    ))
}

async fn help(State(app): State<AppState>) -> Response {
    let urls = Urls::new(&app.settings.base_url);
    let body = json!({
        "rdapConformance": CONFORMANCE,
        "notices": [{
            "title": "ipxfer RDAP service",
            "description": [
                "Who holds IPv4 space now, according to ipxfer's holdings registry and its hash-chained ledger.",
                "Queries: /rdap/ip/{address}, /rdap/ip/{prefix}/{length} (the registration that contains it) and /rdap/entity/{handle} (an organisation, HANDLE-REGISTRY, or a registry: AFRINIC, APNIC, ARIN, LACNIC, RIPE-NCC).",
                "Each network lists its registration, its last change and one transfer event per finalized transfer of its space, linked to the ledger entry.",
                "Holders are given by name and country only. Space in a registry's inventory answers with the registry as holder.",
            ],
            "links": [{
                "value": urls.rdap("help"),
                "rel": "self",
                "href": urls.rdap("help"),
                "type": RDAP_JSON,
            }],
        }],
    });
    rdap_response(StatusCode::OK, &body)
}

/// RDAP is read with GET (and HEAD) only.
async fn wrong_method() -> RdapError {
    RdapError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        title: "Method not allowed",
        description: "RDAP queries are read with GET.".into(),
    }
}

/// Known RDAP query types this server does not answer, and paths that are no RDAP query.
async fn unsupported(uri: axum::http::Uri) -> RdapError {
    let path = uri
        .path()
        .trim_start_matches("/rdap")
        .trim_start_matches('/');
    let kind = path.split('/').next().unwrap_or_default();
    match kind {
        "autnum" | "domain" | "nameserver" | "domains" | "nameservers" | "entities" | "ips" => {
            RdapError {
                status: StatusCode::NOT_IMPLEMENTED,
                title: "Query type not supported",
                description: format!(
                    "This server answers ip, entity and help queries only, not {kind}."
                ),
            }
        }
        _ => RdapError::bad_request(
            "Not an RDAP query this server knows: use /rdap/ip/{address}, \
             /rdap/ip/{prefix}/{length}, /rdap/entity/{handle} or /rdap/help.",
        ),
    }
}
