//! The RDAP objects (RFC 9083) this service answers with: networks held or in a registry's
//! inventory with their transfer events, organisations and registries as entities, and the
//! links and handles that name them.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};

use super::{CONFORMANCE, MAX_TRANSFERS, RDAP_JSON, RdapError};
use crate::db::entities::{holding, organisation, registry_inventory};
use crate::db::holdings::range_of;
use crate::domain::ledger::{LedgerEntry, LedgerParty};
use crate::domain::{Ipv4Range, Rir};
use crate::error::AppError;

/// Absolute URLs of this server (RFC 9083 links carry absolute `href`s).
pub(super) struct Urls {
    base: String,
}

impl Urls {
    pub(super) fn new(base_url: &str) -> Self {
        Urls {
            base: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// `{base}/rdap/{path}`, with `path` as the server received it.
    pub(super) fn rdap(&self, path: &str) -> String {
        format!("{}/rdap/{path}", self.base)
    }

    /// The entity query of `handle`, percent-encoded as a path segment.
    pub(super) fn entity(&self, handle: &str) -> String {
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

    pub(super) fn page(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// How entity handles name registries and organisations: a registry by its code, an
/// organisation by its handle at its registry and that registry's code.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum EntityHandle<'a> {
    Registry(Rir),
    Organisation(Rir, &'a str),
}

pub(super) fn registry_handle(rir: Rir) -> &'static str {
    match rir {
        Rir::Afrinic => "AFRINIC",
        Rir::Apnic => "APNIC",
        Rir::Arin => "ARIN",
        Rir::Lacnic => "LACNIC",
        Rir::RipeNcc => "RIPE-NCC",
    }
}

/// The suffix of an organisation's entity handle (RIPE's own `-RIPE` style).
pub(super) fn registry_suffix(rir: Rir) -> &'static str {
    match rir {
        Rir::RipeNcc => "RIPE",
        other => registry_handle(other),
    }
}

impl<'a> EntityHandle<'a> {
    pub(super) fn parse(handle: &'a str) -> Option<Self> {
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

    pub(super) fn organisation(org: &organisation::Model) -> Option<String> {
        Rir::from_token(&org.registry).map(|rir| format!("{}-{}", org.handle, registry_suffix(rir)))
    }
}

/// The top-level members every answer carries.
pub(super) fn top_level(mut object: Value, urls: &Urls) -> Value {
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
pub(super) fn vcard(name: &str, country: Option<&str>) -> Value {
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

pub(super) fn self_link(value: &str, href: &str) -> Value {
    json!({ "value": value, "rel": "self", "href": href, "type": RDAP_JSON })
}

/// A registry as an entity; `roles` when it appears inside a network.
pub(super) fn registry_entity(urls: &Urls, rir: Rir, roles: Option<&[&str]>) -> Value {
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
pub(super) fn org_entity(
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

pub(super) fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub(super) fn day(d: Date) -> OffsetDateTime {
    d.with_time(Time::MIDNIGHT).assume_utc()
}

/// A network's handle, as APNIC and the RIPE NCC write theirs: `first - last`.
pub(super) fn network_handle(range: Ipv4Range) -> String {
    format!("{} - {}", range.first(), range.last())
}

/// The members every IPv4 network object has, for `range`.
pub(super) fn network_base(urls: &Urls, path: &str, range: Ipv4Range, registry: Rir) -> Value {
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

pub(super) fn party(p: &LedgerParty, rir: Rir) -> String {
    format!(
        "{} ({})",
        p.name.as_deref().unwrap_or("unnamed holder"),
        rir.nro_name()
    )
}

/// One `transfer` event per ledger entry, linked to the entry.
pub(super) fn transfer_event(urls: &Urls, path: &str, e: &LedgerEntry) -> Value {
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
pub(super) fn held_network(
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
pub(super) fn inventory_network(
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
