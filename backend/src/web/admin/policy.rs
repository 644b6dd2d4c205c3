//! The registry policy profiles and fee schedules the server runs with, each rule with its
//! citation and the values that are defaults rather than confirmed.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use crate::domain::Rir;
use crate::domain::authz::Action;
use crate::domain::fees::{Payer, format_amount};
use crate::domain::format::group_thousands;
use crate::domain::policy::RegistryProfile;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::auth::SignedIn;
use crate::web::page::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/policy", get(policy))
}

/// One parameter of a registry's policy as the running server applies it.
struct Rule {
    name: &'static str,
    value: String,
    citation: String,
}

struct FeeRow {
    description: String,
    payer: &'static str,
    amount: String,
}

struct RegistryPolicy {
    name: &'static str,
    token: &'static str,
    transfer_policy: String,
    rules: Vec<Rule>,
    currency: String,
    fees: Vec<FeeRow>,
    /// The values that are configurable defaults, not confirmed (`confirmed = false`).
    defaults: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/admin/policy.html")]
struct PolicyPage {
    chrome: Chrome,
    registries: Vec<RegistryPolicy>,
    four_eyes: String,
    consent_days: i64,
    information_days: i64,
}

fn months(m: u32) -> String {
    format!("{m} months")
}

fn rules_of(p: &RegistryProfile) -> Vec<Rule> {
    let mut rules = vec![
        Rule {
            name: "Smallest block",
            value: p.minimum_size.prefix.to_string(),
            citation: p.minimum_size.citation.clone(),
        },
        Rule {
            name: "Holding period",
            value: format!(
                "{}{}{}",
                months(p.holding_period.months),
                p.holding_period
                    .registry_issued_months
                    .map(|m| format!(" ({} for space the registry issued)", months(m)))
                    .unwrap_or_default(),
                if p.holding_period.exempt_merger_acquisition {
                    "; mergers and acquisitions exempt"
                } else {
                    ""
                }
            ),
            citation: p.holding_period.citation.clone(),
        },
    ];
    for r in &p.restricted {
        rules.push(Rule {
            name: "Restricted",
            value: format!(
                "{}{}",
                r.description,
                r.months
                    .map(|m| format!(" for {}", months(m)))
                    .unwrap_or_default()
            ),
            citation: r.citation.clone(),
        });
    }
    rules.push(Rule {
        name: "Inter-RIR transfers",
        value: if p.inter_rir.enabled {
            format!(
                "with {}",
                p.inter_rir
                    .partners
                    .iter()
                    .map(|r| r.nro_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            "not accepted".to_owned()
        },
        citation: p.inter_rir.citation.clone(),
    });
    rules.push(Rule {
        name: "Need justification",
        value: if p.need.required {
            match (p.need.horizon_months, p.need.min_utilisation_percent) {
                (Some(h), Some(u)) => format!("required: {u}% used within {}", months(h)),
                (Some(h), None) => format!("required: use within {}", months(h)),
                _ => "required".to_owned(),
            }
        } else {
            match &p.need.inbound_from_needs_based {
                Some(plan) => format!(
                    "only from needs-based registries: {}% used within {}",
                    plan.min_utilisation_percent,
                    months(plan.horizon_months)
                ),
                None => "not required".to_owned(),
            }
        },
        citation: p.need.citation.clone(),
    });
    rules.push(Rule {
        name: "Documents",
        value: p
            .documents
            .required
            .iter()
            .map(|d| d.as_str().replace('_', " "))
            .collect::<Vec<_>>()
            .join(", "),
        citation: p.documents.citation.clone(),
    });
    rules
}

fn payer_label(p: Payer) -> &'static str {
    match p {
        Payer::Source => "source",
        Payer::Recipient => "recipient",
        Payer::RecipientElseSource => "recipient (source if outside the registry)",
        Payer::SourceElseRecipient => "source (recipient if outside the registry)",
    }
}

async fn policy(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ManagePolicyProfiles)?;
    let unconfirmed = crate::domain::policy::unconfirmed(&app.settings.profiles);
    let registries = Rir::ALL
        .iter()
        .map(|rir| {
            let p = app.settings.profiles.get(*rir);
            let schedule = &app.settings.profiles.get(*rir).fees;
            let fees = schedule
                .items
                .iter()
                .map(|item| {
                    let amount = match (&item.amount, &item.bands) {
                        (Some(flat), _) => format_amount(*flat, &schedule.currency),
                        (None, Some(bands)) => bands
                            .iter()
                            .map(|b| {
                                let size = match (b.up_to, b.below) {
                                    (Some(l), _) => format!("up to {l}"),
                                    (None, Some(l)) => format!("below {l}"),
                                    (None, None) => "larger".to_owned(),
                                };
                                format!("{size}: {}", format_amount(b.amount, &schedule.currency))
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                        (None, None) => "none".to_owned(),
                    };
                    FeeRow {
                        description: item.description.clone(),
                        payer: payer_label(item.payer),
                        amount: match item.percent {
                            Some(pct) => format!("{pct}% of {amount}"),
                            None => amount,
                        },
                    }
                })
                .collect();
            RegistryPolicy {
                defaults: unconfirmed
                    .iter()
                    .filter(|u| u.registry == *rir)
                    .map(|u| format!("{} ({})", u.value, u.key))
                    .collect(),
                name: rir.nro_name(),
                token: rir.token(),
                transfer_policy: p.transfer_policy.clone(),
                rules: rules_of(p),
                currency: schedule.currency.to_string(),
                fees,
            }
        })
        .collect();
    render(&PolicyPage {
        chrome: viewer.chrome(&app).await?,
        registries,
        four_eyes: group_thousands(app.settings.four_eyes_addresses),
        consent_days: app.settings.consent_days,
        information_days: app.settings.information_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_profile_reads_as_rules_with_citations() {
        let settings = crate::config::Settings::default();
        for rir in Rir::ALL {
            let rules = rules_of(settings.profiles.get(rir));
            assert_eq!(rules[0].name, "Smallest block");
            assert!(rules.iter().all(|r| !r.citation.is_empty()), "{rir}");
        }
    }
}
