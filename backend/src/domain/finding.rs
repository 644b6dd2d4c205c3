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
}

impl Finding {
    pub fn is_blocking(&self) -> bool {
        self.severity == Severity::Blocking
    }
}
