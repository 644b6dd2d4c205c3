//! The five Regional Internet Registries, with their NRO names and delegated-file tokens.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Regional Internet Registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Rir {
    #[serde(rename = "AFRINIC")]
    Afrinic,
    #[serde(rename = "APNIC")]
    Apnic,
    #[serde(rename = "ARIN")]
    Arin,
    #[serde(rename = "LACNIC")]
    Lacnic,
    #[serde(rename = "RIPE NCC")]
    RipeNcc,
}

impl Rir {
    /// Every registry, in the NRO's alphabetical order.
    pub const ALL: [Rir; 5] = [
        Rir::Afrinic,
        Rir::Apnic,
        Rir::Arin,
        Rir::Lacnic,
        Rir::RipeNcc,
    ];

    /// The name the NRO transfer log uses (`"RIPE NCC"`).
    pub fn nro_name(self) -> &'static str {
        match self {
            Rir::Afrinic => "AFRINIC",
            Rir::Apnic => "APNIC",
            Rir::Arin => "ARIN",
            Rir::Lacnic => "LACNIC",
            Rir::RipeNcc => "RIPE NCC",
        }
    }

    /// The token of delegated-extended files and of the database (`"ripencc"`).
    pub fn token(self) -> &'static str {
        match self {
            Rir::Afrinic => "afrinic",
            Rir::Apnic => "apnic",
            Rir::Arin => "arin",
            Rir::Lacnic => "lacnic",
            Rir::RipeNcc => "ripencc",
        }
    }

    /// Parses a delegated-file token only (`"ripencc"`).
    pub fn from_token(token: &str) -> Option<Rir> {
        Rir::ALL.into_iter().find(|r| r.token() == token)
    }

    /// Parses an NRO name only (`"RIPE NCC"`).
    pub fn from_nro_name(name: &str) -> Option<Rir> {
        Rir::ALL.into_iter().find(|r| r.nro_name() == name)
    }
}

impl fmt::Display for Rir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nro_name())
    }
}

/// The text was neither an NRO name nor a delegated-file token of a registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown registry {0:?}: expected one of AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC")]
pub struct UnknownRir(pub String);

impl FromStr for Rir {
    type Err = UnknownRir;

    /// Accepts the NRO name or the token, case-insensitively, and `RIPE` / `RIPENCC` / `RIPE-NCC`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let folded: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .collect::<String>()
            .to_ascii_lowercase();
        match folded.as_str() {
            "ripe" => Ok(Rir::RipeNcc),
            other => Rir::from_token(other).ok_or_else(|| UnknownRir(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tokens_round_trip() {
        for rir in Rir::ALL {
            assert_eq!(Rir::from_token(rir.token()), Some(rir));
            assert_eq!(Rir::from_nro_name(rir.nro_name()), Some(rir));
            assert_eq!(rir.nro_name().parse::<Rir>(), Ok(rir));
            assert_eq!(rir.token().parse::<Rir>(), Ok(rir));
            assert_eq!(rir.to_string(), rir.nro_name());
            let json = serde_json::to_string(&rir).unwrap();
            assert_eq!(json, format!("\"{}\"", rir.nro_name()));
        }
    }

    #[test]
    fn lenient_spellings_and_errors() {
        assert_eq!("ripe".parse::<Rir>(), Ok(Rir::RipeNcc));
        assert_eq!("RIPE-NCC".parse::<Rir>(), Ok(Rir::RipeNcc));
        assert_eq!(" arin ".parse::<Rir>(), Ok(Rir::Arin));
        let err = "iana".parse::<Rir>().unwrap_err();
        assert!(err.to_string().contains("\"iana\""));
        assert_eq!(Rir::from_token("RIPE NCC"), None);
    }
}
