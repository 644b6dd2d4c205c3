//! The public, read-only RDAP service at `/rdap/` (RFC 7480 over HTTP, RFC 9082 queries, RFC
//! 9083 responses): who holds an IPv4 address or block now, since when, and each finalized
//! transfer of that space with a link to its ledger entry; organisations and registries as
//! entities; help; RDAP error objects for every refusal.
//!
//! Anonymous and cheap by construction: every answer is read through `services::lookup` (the
//! same reads as the block lookup page) with index seeks only, built in memory, and sent as one
//! small body, so no database connection waits on a slow reader. Bad input of any kind is a
//! 400 (malformed) or 404 (nothing held there) RDAP error, never an HTML page or a 500.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};
use tower_http::set_header::SetResponseHeaderLayer;

use super::AppState;
use crate::db::entities::{holding, organisation, registry_inventory};
use crate::db::holdings::range_of;
use crate::domain::ledger::{LedgerEntry, LedgerParty};
use crate::domain::{Ipv4Range, Rir};
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
            let history = lookup::history(&app.db, held_range, MAX_TRANSFERS + 1).await?;
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

/// Absolute URLs of this server (RFC 9083 links carry absolute `href`s).
struct Urls {
    base: String,
}

impl Urls {
    fn new(base_url: &str) -> Self {
        Urls {
            base: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// `{base}/rdap/{path}`, with `path` as the server received it.
    fn rdap(&self, path: &str) -> String {
        format!("{}/rdap/{path}", self.base)
    }

    /// The entity query of `handle`, percent-encoded as a path segment.
    fn entity(&self, handle: &str) -> String {
        match url::Url::parse(&self.rdap("entity/")) {
            Ok(mut u) => {
                if let Ok(mut segments) = u.path_segments_mut() {
                    segments.pop().push(handle);
                }
                u.to_string()
            }
            Err(_) => self.rdap(&format!("entity/{handle}")),
        }
    }

    fn page(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// How entity handles name registries and organisations: a registry by its code, an
/// organisation by its handle at its registry and that registry's code.
#[derive(Debug, PartialEq, Eq)]
enum EntityHandle<'a> {
    Registry(Rir),
    Organisation(Rir, &'a str),
}

fn registry_handle(rir: Rir) -> &'static str {
    match rir {
        Rir::Afrinic => "AFRINIC",
        Rir::Apnic => "APNIC",
        Rir::Arin => "ARIN",
        Rir::Lacnic => "LACNIC",
        Rir::RipeNcc => "RIPE-NCC",
    }
}

/// The suffix of an organisation's entity handle (RIPE's own `-RIPE` style).
fn registry_suffix(rir: Rir) -> &'static str {
    match rir {
        Rir::RipeNcc => "RIPE",
        other => registry_handle(other),
    }
}

impl<'a> EntityHandle<'a> {
    fn parse(handle: &'a str) -> Option<Self> {
        if let Some(rir) = Rir::ALL
            .into_iter()
            .find(|r| registry_handle(*r).eq_ignore_ascii_case(handle))
        {
            return Some(EntityHandle::Registry(rir));
        }
        let (org, suffix) = handle.rsplit_once('-')?;
        let rir = Rir::ALL
            .into_iter()
            .find(|r| registry_suffix(*r).eq_ignore_ascii_case(suffix))?;
        (!org.is_empty()).then_some(EntityHandle::Organisation(rir, org))
    }

    fn organisation(org: &organisation::Model) -> Option<String> {
        Rir::from_token(&org.registry).map(|rir| format!("{}-{}", org.handle, registry_suffix(rir)))
    }
}

/// The top-level members every answer carries.
fn top_level(mut object: Value, urls: &Urls) -> Value {
    if let Value::Object(map) = &mut object {
        map.insert("rdapConformance".into(), json!(CONFORMANCE));
        map.insert(
            "notices".into(),
            json!([{
                "title": "Source",
                "description": [
                    "Answered from ipxfer's holdings registry and hash-chained transfer ledger. Holders are given by name and country only.",
                ],
                "links": [{
                    "value": urls.rdap("help"),
                    "rel": "help",
                    "href": urls.rdap("help"),
                    "type": RDAP_JSON,
                }],
            }]),
        );
    }
    object
}

/// A holder's vCard: organisation name and country, nothing personal (jCard, RFC 7095).
fn vcard(name: &str, country: Option<&str>) -> Value {
    let mut props = vec![
        json!(["version", {}, "text", "4.0"]),
        json!(["fn", {}, "text", name]),
        json!(["kind", {}, "text", "org"]),
    ];
    if let Some(cc) = country.filter(|c| !c.is_empty()) {
        props.push(json!(["adr", {"cc": cc}, "text", ["", "", "", "", "", "", cc]]));
    }
    json!(["vcard", props])
}

fn self_link(value: &str, href: &str) -> Value {
    json!({ "value": value, "rel": "self", "href": href, "type": RDAP_JSON })
}

/// A registry as an entity; `roles` when it appears inside a network.
fn registry_entity(urls: &Urls, rir: Rir, roles: Option<&[&str]>) -> Value {
    let handle = registry_handle(rir);
    let href = urls.entity(handle);
    let mut e = json!({
        "objectClassName": "entity",
        "handle": handle,
        "vcardArray": vcard(rir.nro_name(), None),
        "links": [self_link(&href, &href)],
    });
    if let Some(roles) = roles {
        e["roles"] = json!(roles);
    }
    e
}

/// An organisation as an entity: its name and country only.
fn org_entity(
    urls: &Urls,
    org: &organisation::Model,
    roles: Option<&[&str]>,
) -> Result<Value, RdapError> {
    let handle = EntityHandle::organisation(org).ok_or_else(|| {
        RdapError::from(AppError::Internal(anyhow::anyhow!(
            "organisation {}: unknown registry {:?}",
            org.id,
            org.registry
        )))
    })?;
    let href = urls.entity(&handle);
    let mut e = json!({
        "objectClassName": "entity",
        "handle": handle,
        "vcardArray": vcard(&org.name, org.country.as_deref()),
        "status": ["active"],
        "links": [self_link(&href, &href)],
    });
    if let Some(roles) = roles {
        e["roles"] = json!(roles);
    }
    Ok(e)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn day(d: Date) -> OffsetDateTime {
    d.with_time(Time::MIDNIGHT).assume_utc()
}

/// A network's handle, as APNIC and the RIPE NCC write theirs: `first - last`.
fn network_handle(range: Ipv4Range) -> String {
    format!("{} - {}", range.first(), range.last())
}

/// The members every IPv4 network object has, for `range`.
fn network_base(urls: &Urls, path: &str, range: Ipv4Range, registry: Rir) -> Value {
    let self_href = match range.to_cidrs().first() {
        Some(net) => urls.rdap(&format!("ip/{net}")),
        None => urls.rdap(path),
    };
    let first = range.to_cidrs();
    let name = format!(
        "{}-{}",
        registry_suffix(registry),
        first
            .first()
            .map(|n| n.to_string())
            .unwrap_or_default()
            .replace(['.', '/'], "-")
    );
    json!({
        "objectClassName": "ip network",
        "handle": network_handle(range),
        "startAddress": range.first().to_string(),
        "endAddress": range.last().to_string(),
        "ipVersion": "v4",
        "name": name,
        "cidr0_cidrs": range
            .to_cidrs()
            .iter()
            .map(|n| json!({ "v4prefix": n.network().to_string(), "length": n.prefix_len() }))
            .collect::<Vec<_>>(),
        "links": [self_link(&urls.rdap(path), &self_href)],
    })
}

fn party(p: &LedgerParty, rir: Rir) -> String {
    format!(
        "{} ({})",
        p.name.as_deref().unwrap_or("unnamed holder"),
        rir.nro_name()
    )
}

/// One `transfer` event per ledger entry, linked to the entry.
fn transfer_event(urls: &Urls, path: &str, e: &LedgerEntry) -> Value {
    let m = &e.movement;
    json!({
        "eventAction": "transfer",
        "eventDate": rfc3339(m.transfer_date),
        "links": [{
            "value": urls.rdap(path),
            "rel": "related",
            "href": urls.page(&format!("/ledger/{}", e.seq)),
            "type": "text/html",
            "title": format!(
                "Ledger entry {}: {} from {} to {}",
                e.seq,
                m.range,
                party(&m.source, m.source_rir),
                party(&m.recipient, m.recipient_rir)
            ),
        }],
    })
}

/// A held network: the holding, its holder as registrant, and its transfer history (newest
/// first in `history`, at most [`MAX_TRANSFERS`] + 1 to tell whether there are more).
fn held_network(
    urls: &Urls,
    path: &str,
    h: &holding::Model,
    holder: &organisation::Model,
    history: &[LedgerEntry],
) -> Result<Value, RdapError> {
    let range = range_of(h.start_addr, h.end_addr).map_err(AppError::from)?;
    let registry = Rir::from_token(&h.registry).ok_or_else(|| {
        RdapError::from(AppError::Internal(anyhow::anyhow!(
            "holding {}: unknown registry {:?}",
            h.id,
            h.registry
        )))
    })?;
    let mut n = network_base(urls, path, range, registry);
    n["type"] = json!(h.status);
    if let Some(cc) = h.country.as_deref().or(holder.country.as_deref()) {
        n["country"] = json!(cc);
    }
    // The registry block this one was cut from when it was transferred to its holder.
    if let Some(original) = history
        .iter()
        .find(|e| e.movement.range == range)
        .and_then(|e| e.movement.original)
        .filter(|o| *o != range && o.contains(&range))
    {
        n["parentHandle"] = json!(network_handle(original));
    }
    n["status"] = json!(["active"]);
    n["entities"] = json!([org_entity(urls, holder, Some(&["registrant"]))?]);

    let shown = &history[..history.len().min(MAX_TRANSFERS as usize)];
    let mut events = Vec::new();
    if let Some(d) = h.registered_on {
        events.push(json!({ "eventAction": "registration", "eventDate": rfc3339(day(d)) }));
    }
    events.extend(shown.iter().rev().map(|e| transfer_event(urls, path, e)));
    let last_changed = shown
        .iter()
        .map(|e| e.movement.transfer_date)
        .chain(h.received_on.map(day))
        .chain(h.registered_on.map(day))
        .max();
    if let Some(t) = last_changed {
        events.push(json!({ "eventAction": "last changed", "eventDate": rfc3339(t) }));
    }
    n["events"] = json!(events);
    if history.len() > shown.len() {
        n["remarks"] = json!([{
            "title": "Transfers",
            "type": "result set truncated due to excessive load",
            "description": [format!(
                "Only the newest {MAX_TRANSFERS} transfers of this space are listed; the ledger has them all."
            )],
        }]);
    }
    Ok(top_level(n, urls))
}

/// Space in a registry's inventory: the registry as holder, and the inventory status.
fn inventory_network(
    urls: &Urls,
    path: &str,
    registry: Rir,
    block: &registry_inventory::Model,
) -> Result<Value, RdapError> {
    let range = range_of(block.start_addr, block.end_addr).map_err(AppError::from)?;
    let mut n = network_base(urls, path, range, registry);
    n["type"] = json!(block.status);
    // RDAP's status values: available space is not in use; reserved space is held back.
    n["status"] = json!([if block.status == "reserved" {
        "reserved"
    } else {
        "inactive"
    }]);
    n["entities"] = json!([registry_entity(urls, registry, Some(&["registrant"]))]);
    if let Some(d) = block.record_date {
        n["events"] = json!([
            { "eventAction": "registration", "eventDate": rfc3339(day(d)) },
            { "eventAction": "last changed", "eventDate": rfc3339(day(d)) },
        ]);
    }
    Ok(top_level(n, urls))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpQuery {
        IpQuery::V4(s.parse().unwrap())
    }

    #[test]
    fn addresses_parse_strictly() {
        assert_eq!(parse_address("192.0.2.1").unwrap(), v4("192.0.2.1"));
        assert_eq!(parse_address("2001:db8::1").unwrap(), IpQuery::V6);
        for bad in [
            "192.0.2",
            "192.0.2.256",
            "010.0.0.1",
            "",
            "x",
            "192.0.2.1/24",
            " 192.0.2.1",
        ] {
            let e = parse_address(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn prefixes_parse_strictly() {
        assert_eq!(parse_prefix("192.0.2.0", "24").unwrap(), v4("192.0.2.0/24"));
        assert_eq!(parse_prefix("0.0.0.0", "0").unwrap(), v4("0.0.0.0/0"));
        assert_eq!(parse_prefix("2001:db8::", "32").unwrap(), IpQuery::V6);
        for (p, l) in [
            ("192.0.2.0", "33"),
            ("192.0.2.0", "+24"),
            ("192.0.2.0", ""),
            ("192.0.2.0", "0024"),
            ("192.0.2.1", "24"),
            ("192.0.2", "24"),
            ("2001:db8::", "129"),
            ("192.0.2.0-192.0.2.9", "24"),
        ] {
            let e = parse_prefix(p, l).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{p}/{l}");
        }
    }

    #[test]
    fn entity_handles_name_registries_and_organisations() {
        assert_eq!(
            EntityHandle::parse("RIPE-NCC"),
            Some(EntityHandle::Registry(Rir::RipeNcc))
        );
        assert_eq!(
            EntityHandle::parse("arin"),
            Some(EntityHandle::Registry(Rir::Arin))
        );
        assert_eq!(
            EntityHandle::parse("A92319D5-APNIC"),
            Some(EntityHandle::Organisation(Rir::Apnic, "A92319D5"))
        );
        assert_eq!(
            EntityHandle::parse("ORG-NW1-RIPE"),
            Some(EntityHandle::Organisation(Rir::RipeNcc, "ORG-NW1"))
        );
        for unknown in ["", "-ARIN", "X-NCC", "A92319D5", "A92319D5-IANA"] {
            assert_eq!(EntityHandle::parse(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn networks_name_their_cidrs() {
        let urls = Urls::new("https://ipxfer.example/");
        let n = network_base(
            &urls,
            "ip/3.0.4.1",
            "3.0.4.0 - 3.0.8.255".parse().unwrap(),
            Rir::Arin,
        );
        assert_eq!(n["handle"], "3.0.4.0 - 3.0.8.255");
        assert_eq!(n["name"], "ARIN-3-0-4-0-22");
        assert_eq!(
            n["cidr0_cidrs"],
            json!([{"v4prefix": "3.0.4.0", "length": 22}, {"v4prefix": "3.0.8.0", "length": 24}])
        );
        assert_eq!(
            n["links"][0]["value"],
            "https://ipxfer.example/rdap/ip/3.0.4.1"
        );
        assert_eq!(
            n["links"][0]["href"],
            "https://ipxfer.example/rdap/ip/3.0.4.0/22"
        );
        assert_eq!(
            urls.entity("A B/C-ARIN"),
            "https://ipxfer.example/rdap/entity/A%20B%2FC-ARIN"
        );
    }
}
