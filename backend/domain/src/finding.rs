//! Findings: what a policy rule says about a transfer, for one side, with the policy it applies.

use serde::{Deserialize, Serialize};

use super::transfer::Side;

/// How much a finding weighs on the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the reviewer's information only.
    Info,
    /// May be overridden by a hostmaster with a written reason.
    Warning,
    /// Prevents approval and finalization; cannot be overridden.
    Blocking,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Blocking => "blocking",
        }
    }
}

/// One result of one policy rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier, for example `source.holding_period`.
    pub rule_id: String,
    pub side: Side,
    pub severity: Severity,
    /// Sentence for people; names the policy, e.g. "ARIN NRPM 8.5.3: minimum transfer size is /24".
    pub message: String,
    /// The policy text it applies, e.g. "ARIN NRPM 8.5.3".
    pub citation: String,
    /// False when the finding rests on a profile value marked `confirmed = false` (a configurable
    /// default, not checked against the registry's published policy); such a finding is never
    /// blocking.
    #[serde(default = "yes")]
    pub confirmed: bool,
    /// True when one finding speaks for both registries of an inter-RIR transfer (a `both.` rule
    /// whose outcome is the same on each side): both reviews weigh it.
    #[serde(default)]
    pub shared: bool,
    /// A policy exception a hostmaster of the finding's side may record, with a reason, to lift
    /// it (ARIN-2020-6 for ARIN's holding period); `None` when nothing but the facts can.
    #[serde(default)]
    pub exception: Option<String>,
}

fn yes() -> bool {
    true
}

/// How a finding or fee line resting on an unconfirmed profile value is labelled wherever people
/// read it.
pub const UNCONFIRMED_NOTE: &str =
    "configurable default, not confirmed against the registry's published policy";

impl Finding {
    /// A confirmed finding of one side.
    pub fn new(
        rule_id: &str,
        side: Side,
        severity: Severity,
        citation: &str,
        message: String,
    ) -> Finding {
        Finding {
            rule_id: rule_id.to_owned(),
            side,
            severity,
            message,
            citation: citation.to_owned(),
            confirmed: true,
            shared: false,
            exception: None,
        }
    }

    pub fn is_blocking(&self) -> bool {
        self.severity == Severity::Blocking
    }

    /// Whether a review of `side` weighs this finding.
    pub fn concerns(&self, side: Side) -> bool {
        self.shared || self.side == side
    }

    /// Marks the finding as resting on a value that is (`confirmed`) or is not confirmed: an
    /// unconfirmed finding says so in its message and is at most a warning.
    pub fn resting_on(mut self, confirmed: bool) -> Finding {
        if !confirmed && self.confirmed {
            self.confirmed = false;
            self.message = format!("{} ({UNCONFIRMED_NOTE})", self.message);
            if self.severity == Severity::Blocking {
                self.severity = Severity::Warning;
            }
        }
        self
    }
}
