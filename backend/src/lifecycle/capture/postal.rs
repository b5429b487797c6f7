//! Postal-code formats per country (from the Universal Postal Union's addressing guides), for
//! the countries merchants ship to most. A country not listed is accepted as given.
//!
//! Pattern letters: `9` a digit, `A` a letter, `?` a letter or digit; anything else literal.
//! Codes are compared upper-cased with runs of spaces collapsed.

const FORMATS: &[(&str, &[&str])] = &[
    ("US", &["99999", "99999-9999"]),
    ("CA", &["A9A 9A9", "A9A9A9"]),
    (
        "GB",
        &[
            "A9 9AA", "A99 9AA", "AA9 9AA", "AA99 9AA", "A9A 9AA", "AA9A 9AA",
        ],
    ),
    ("DE", &["99999"]),
    ("FR", &["99999"]),
    ("IT", &["99999"]),
    ("ES", &["99999"]),
    ("NL", &["9999 AA", "9999AA"]),
    ("BE", &["9999"]),
    ("AT", &["9999"]),
    ("CH", &["9999"]),
    ("DK", &["9999"]),
    ("NO", &["9999"]),
    ("SE", &["999 99", "99999"]),
    ("FI", &["99999"]),
    ("PL", &["99-999"]),
    ("PT", &["9999-999"]),
    ("IE", &["A99 ????", "A99????", "A9A ????", "A9A????"]),
    ("AU", &["9999"]),
    ("NZ", &["9999"]),
    ("JP", &["999-9999", "9999999"]),
    ("KR", &["99999"]),
    ("CN", &["999999"]),
    ("IN", &["999999", "999 999"]),
    ("SG", &["999999"]),
    ("BR", &["99999-999", "99999999"]),
    ("MX", &["99999"]),
    ("AR", &["A9999AAA", "9999"]),
    ("ZA", &["9999"]),
    ("RU", &["999999"]),
    ("CZ", &["999 99", "99999"]),
];

/// Countries without postal codes (or where they are not used in addresses).
const NONE: &[&str] = &[
    "AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI", "CK",
    "CM", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "HM", "JM", "KE", "KI",
    "KM", "KN", "KP", "LC", "ML", "MO", "MR", "MW", "NA", "NR", "NU", "QA", "RW", "SB", "SC", "SL",
    "SO", "SR", "ST", "SY", "TD", "TF", "TG", "TK", "TL", "TO", "TV", "UG", "VU", "YE", "ZW",
];

/// Countries whose labels need a state, province or region.
const REGION_REQUIRED: &[&str] = &["US", "CA", "AU", "BR", "MX", "IN", "CN", "JP", "AR", "IT"];

fn normal(code: &str) -> String {
    code.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase()
}

fn matches(pattern: &str, code: &str) -> bool {
    pattern.chars().count() == code.chars().count()
        && pattern.chars().zip(code.chars()).all(|(p, c)| match p {
            '9' => c.is_ascii_digit(),
            'A' => c.is_ascii_alphabetic(),
            '?' => c.is_ascii_alphanumeric(),
            other => other == c,
        })
}

pub fn uses_postal_codes(country: &str) -> bool {
    !NONE.contains(&country.trim().to_ascii_uppercase().as_str())
}

pub fn region_required(country: &str) -> bool {
    REGION_REQUIRED.contains(&country.trim().to_ascii_uppercase().as_str())
}

/// City-states whose addresses often carry no separate city.
pub fn city_optional(country: &str) -> bool {
    matches!(
        country.trim().to_ascii_uppercase().as_str(),
        "SG" | "HK" | "MO" | "MC" | "VA"
    )
}

/// Whether `code` has a valid format for `country` (always true for unlisted countries).
pub fn valid(country: &str, code: &str) -> bool {
    let country = country.trim().to_ascii_uppercase();
    let code = normal(code);
    match FORMATS.iter().find(|(c, _)| *c == country) {
        Some((_, patterns)) => patterns.iter().any(|p| matches(p, &code)),
        None => !code.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_of_the_main_shipping_countries() {
        for (country, code) in [
            ("US", "40003"),
            ("US", "40003-1234"),
            ("CA", "k2p 1l4"),
            ("GB", "SW1A 1AA"),
            ("GB", "ls1  4ap"),
            ("GB", "M1 1AE"),
            ("DE", "10115"),
            ("NL", "1012 JS"),
            ("JP", "100-0001"),
            ("BR", "01310-100"),
            ("IE", "D02 X285"),
            ("IE", "D6W X285"),
            ("XX", "anything"),
        ] {
            assert!(valid(country, code), "{country} {code}");
        }
        for (country, code) in [
            ("US", "4000"),
            ("US", "ABCDE"),
            ("CA", "12345"),
            ("GB", "12345"),
            ("DE", "1011"),
            ("NL", "1012"),
        ] {
            assert!(!valid(country, code), "{country} {code}");
        }
        assert!(!uses_postal_codes("hk") && uses_postal_codes("US"));
        assert!(region_required("us") && !region_required("DE"));
    }
}
