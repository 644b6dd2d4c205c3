//! The auditors' pages: the ledger browser (filters, keyset pages newest first, every entry
//! touching an address or range), one entry with its hashes and the transfer it came from,
//! verification, export downloads (streamed, same filters) and the statistics with charts.
//!
//! Every handler asks [`authz::can`] through [`Viewer::require`]: `ViewLedger` for the browser,
//! entries and statistics, `VerifyLedger` for verification, `Export` for downloads. Prices are
//! shown to auditors only.
//!
//! The filters, shared by the browser, the exports page and the API, are here; each page is in
//! its own module.

mod browser;
mod exports;
mod stats;

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::domain::export::{LedgerFilter, parse_day};
use crate::domain::ledger::EntryKind;
use crate::domain::{Ipv4Range, Rir, TransferType};
use crate::services::export;
use crate::web::AppState;
use crate::web::forms::FormErrors;

pub(crate) use self::browser::LedgerView;
pub(crate) use self::exports::{DownloadQuery, export_file};

/// Computes the statistics page's figures ahead of its first view (see [`super::warm_caches`]).
pub(super) async fn warm_statistics(app: &AppState) -> crate::error::AppResult<()> {
    stats::warm(app).await
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(browser::routes())
        .merge(exports::routes())
        .merge(stats::routes())
}

/// The filters as the browser's form and the download links carry them: strings, so that bad
/// input reaches [`FilterQuery::parse`] and is reported next to its field.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FilterQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registry: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub org: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub transfer_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
}

impl FilterQuery {
    /// The filter, or what is wrong with each field.
    pub(crate) async fn parse(&self, app: &AppState) -> Result<LedgerFilter, FormErrors> {
        let mut errors = FormErrors::default();
        let mut f = LedgerFilter::default();
        let t = |s: &String| s.trim().to_owned();
        if !t(&self.registry).is_empty() {
            match t(&self.registry).parse::<Rir>() {
                Ok(r) => f.registry = Some(r),
                Err(e) => errors.add("registry", e.to_string()),
            }
        }
        if !t(&self.org).is_empty() {
            match export::organisation_ids(&app.db, &t(&self.org)).await {
                Ok(ids) => f.org_ids = Some(ids),
                Err(e) => errors.add("org", e.to_string()),
            }
        }
        for (field, value, slot) in [
            ("from", &self.from, &mut f.from),
            ("to", &self.to, &mut f.to),
        ] {
            if !t(value).is_empty() {
                match parse_day(value) {
                    Ok(d) => *slot = Some(d),
                    Err(e) => errors.add(field, e),
                }
            }
        }
        if let (Some(a), Some(b)) = (f.from, f.to)
            && a > b
        {
            errors.add("to", "The end date is before the start date.");
        }
        match t(&self.kind).as_str() {
            "" => {}
            k => match EntryKind::parse(k) {
                Some(k) => f.kind = Some(k),
                None => errors.add("kind", "Choose imported or transfer."),
            },
        }
        match t(&self.transfer_type).as_str() {
            "" => {}
            k => match TransferType::from_nro_name(k) {
                Some(k) => f.transfer_type = Some(k),
                None => errors.add("type", "Choose RESOURCE_TRANSFER or MERGER_ACQUISITION."),
            },
        }
        if !t(&self.address).is_empty() {
            match t(&self.address).parse::<Ipv4Range>() {
                Ok(r) => f.touching = Some(r),
                Err(e) => errors.add("address", format!("{e}")),
            }
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(errors)
        }
    }

    /// The query string of these filters (for pager and download links).
    fn query_string(&self) -> String {
        serde_html_form::to_string(self).unwrap_or_default()
    }

    /// The browser with these filters.
    fn href(&self) -> String {
        match self.query_string().as_str() {
            "" => "/ledger".to_owned(),
            q => format!("/ledger?{q}"),
        }
    }

    /// Each filter in use, as shown above the results, with a link to the same page without it.
    fn in_use(&self) -> Vec<FilterInUse> {
        type Field = fn(&mut FilterQuery) -> &mut String;
        let fields: [(&'static str, Field); 7] = [
            ("Address or range", |q| &mut q.address),
            ("Registry", |q| &mut q.registry),
            ("Organisation", |q| &mut q.org),
            ("On or after", |q| &mut q.from),
            ("On or before", |q| &mut q.to),
            ("Entry kind", |q| &mut q.kind),
            ("Transfer type", |q| &mut q.transfer_type),
        ];
        let mut out = Vec::new();
        for (label, field) in fields {
            let mut without = self.clone();
            let value = std::mem::take(field(&mut without)).trim().to_owned();
            if value.is_empty() {
                continue;
            }
            // The choices of the two lists in words, as their options say them.
            let value = match (label, value.as_str()) {
                ("Entry kind", "transfer") => "transfers finalized in ipxfer".to_owned(),
                ("Entry kind", "imported") => "imported from registry logs".to_owned(),
                ("Transfer type", "RESOURCE_TRANSFER") => "resource transfer".to_owned(),
                ("Transfer type", "MERGER_ACQUISITION") => "merger or acquisition".to_owned(),
                _ => value,
            };
            out.push(FilterInUse {
                label,
                value,
                clear: without.href(),
            });
        }
        out
    }
}

/// A filter in use, shown above the results with a link that clears it.
struct FilterInUse {
    label: &'static str,
    value: String,
    clear: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_string_keeps_every_filter() {
        let q = FilterQuery {
            registry: "RIPE NCC".into(),
            address: "20.0.4.0/22".into(),
            ..Default::default()
        };
        let s = q.query_string();
        assert!(s.contains("registry=RIPE+NCC"), "{s}");
        assert!(s.contains("address=20.0.4.0%2F22"), "{s}");
    }
}
