//! A currency as an ISO 4217 code (`USD`, `EUR`), checked once where it enters (a filing's agreed
//! price, a fee schedule) so that everything past that point holds a valid one.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Three capital letters, as ISO 4217 writes a currency. Whether the code is assigned is not
/// checked: registries and parties may use any, and the list changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

/// A currency code that is not three capital letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not an ISO 4217 currency code such as \"USD\"")]
pub struct CurrencyError(pub String);

impl Currency {
    /// Checks a code as written; callers that accept lower case upper-case it first.
    pub fn parse(code: &str) -> Result<Currency, CurrencyError> {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(code.to_owned()))
        } else {
            Err(CurrencyError(code.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A currency reads as its code wherever text is wanted (`format_amount(a, &currency)`).
impl Deref for Currency {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_capital_letters_are_a_currency() {
        for code in ["USD", "EUR", "AUD", "XXX"] {
            assert_eq!(Currency::parse(code).unwrap().as_str(), code);
        }
        for code in ["", "usd", "US", "USDT", "U$D", "ÉUR", " USD", "euro"] {
            assert_eq!(Currency::parse(code), Err(CurrencyError(code.to_owned())));
        }
    }

    #[test]
    fn a_currency_reads_and_writes_as_its_code() {
        let usd: Currency = "USD".parse().unwrap();
        assert_eq!(usd.to_string(), "USD");
        assert_eq!(serde_json::to_string(&usd).unwrap(), "\"USD\"");
        assert_eq!(serde_json::from_str::<Currency>("\"USD\"").unwrap(), usd);
        let err = serde_json::from_str::<Currency>("\"usd\"").unwrap_err();
        assert!(err.to_string().contains("ISO 4217"), "{err}");
    }
}
