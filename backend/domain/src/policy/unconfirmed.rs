//! Which profile values are configurable defaults rather than confirmed policy.
//!
//! `profiles.toml` marks every value the research could not check against a registry's
//! published policy with `confirmed = false` (or a narrower flag such as
//! `merger_acquisition_confirmed`). This module lists them, for the policy page and
//! `ipxfer policy check`; findings and fee lines that rest on one say so themselves.

use super::profile::Profiles;
use crate::Rir;

/// One value of one registry's profile that is a default, not confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconfirmed {
    pub registry: Rir,
    /// Where it sits in the profile (`minimum_size`, `fees.items[1]`).
    pub key: String,
    /// What it says, for people ("smallest block /24").
    pub value: String,
}

/// Every unconfirmed value of the profiles, registry by registry in profile order.
pub fn unconfirmed(profiles: &Profiles) -> Vec<Unconfirmed> {
    let mut found = Vec::new();
    for registry in Rir::ALL {
        let p = profiles.get(registry);
        let mut add = |key: String, value: String| {
            found.push(Unconfirmed {
                registry,
                key,
                value,
            });
        };
        if !p.minimum_size.confirmed {
            add(
                "minimum_size".into(),
                format!("smallest block {}", p.minimum_size.prefix),
            );
        }
        let hold = &p.holding_period;
        if !hold.confirmed {
            add(
                "holding_period".into(),
                format!("holding period of {} months", hold.months),
            );
        }
        if !hold.merger_acquisition_confirmed {
            add(
                "holding_period.merger_acquisition_confirmed".into(),
                format!(
                    "mergers and acquisitions {} the holding period{}",
                    if hold.exempt_merger_acquisition {
                        "are exempt from"
                    } else {
                        "are not exempt from"
                    },
                    if hold.counts_merger_acquisition_receipt {
                        "; receipt by merger starts it"
                    } else {
                        "; receipt by merger does not start it"
                    }
                ),
            );
        }
        for (i, r) in p.restricted.iter().enumerate() {
            if !r.confirmed {
                add(
                    format!("restricted[{i}]"),
                    format!("restricted: {}", r.description),
                );
            }
        }
        if !p.inter_rir.confirmed {
            add(
                "inter_rir.enabled".into(),
                if p.inter_rir.enabled {
                    "takes part in inter-RIR transfers".into()
                } else {
                    "takes part in intra-RIR transfers only".into()
                },
            );
        }
        for partner in &p.inter_rir.unconfirmed_partners {
            add(
                "inter_rir.unconfirmed_partners".into(),
                format!("{partner} listed as an inter-RIR partner"),
            );
        }
        if !p.need.confirmed {
            let mut what = Vec::new();
            if let Some(h) = p.need.horizon_months {
                what.push(format!("{h}-month horizon"));
            }
            if let Some(u) = p.need.min_utilisation_percent {
                what.push(format!("{u}% utilisation"));
            }
            add("need".into(), format!("need test: {}", what.join(", ")));
        }
        if !p.need.merger_acquisition_confirmed {
            add(
                "need.merger_acquisition_confirmed".into(),
                format!(
                    "merger-or-acquisition recipients {} the need test",
                    if p.need.exempt_merger_acquisition {
                        "are exempt from"
                    } else {
                        "are not exempt from"
                    }
                ),
            );
        }
        if !p.fees.confirmed {
            add(
                "fees".into(),
                if p.fees.items.is_empty() {
                    "no transfer fee".into()
                } else {
                    "the list of fee items".into()
                },
            );
        }
        for (i, item) in p.fees.items.iter().enumerate() {
            let key = format!("fees.items[{i}]");
            if !item.confirmed {
                add(key.clone(), format!("amount of \"{}\"", item.description));
            }
            if !item.merger_acquisition_confirmed {
                add(
                    key.clone(),
                    format!(
                        "whether \"{}\" is charged for mergers and acquisitions",
                        item.description
                    ),
                );
            }
            if !item.inter_rir_confirmed {
                add(
                    key,
                    format!("\"{}\" on inter-RIR transfers", item.description),
                );
            }
        }
    }
    found
}
