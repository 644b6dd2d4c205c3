//! How numbers are written for people: `189,935,872 addresses`, `USD 1,500.00`.

/// `1234567` as `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    group_digits(&n.to_string())
}

/// A string of ASCII digits with a comma every three from the right.
pub(crate) fn group_digits(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::group_thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_024), "1,024");
        assert_eq!(group_thousands(189_935_872), "189,935,872");
        assert_eq!(group_thousands(4_294_967_296), "4,294,967,296");
    }
}
