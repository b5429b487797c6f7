//! The shopper's locale, and money and dates written the way it writes them. The conventions
//! (decimal mark, grouping, where the currency symbol goes, the date pattern, month names) are
//! glibc's locale data, through `pure-rust-locales` (which chrono's localised formatting uses);
//! currency symbols are ISO 4217's, through `iso_currency`.

use chrono::{DateTime, NaiveDate, Utc};
use pure_rust_locales::{Locale, locale_match};

/// A locale we can format in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShopperLocale(pub Locale);

impl Default for ShopperLocale {
    fn default() -> Self {
        Self(Locale::en_US)
    }
}

impl ShopperLocale {
    /// From what the channel says of the shopper (`de-AT`, `fr`, `en-GB,en;q=0.9`), with the
    /// shipping country for a bare language, then the tenant's default, then en_US.
    pub fn resolve(language: Option<&str>, country: Option<&str>, fallback: &str) -> Self {
        let tag = language
            .and_then(|l| l.split(',').next())
            .map(|l| l.split(';').next().unwrap_or(l).trim().replace('-', "_"))
            .unwrap_or_default();
        let (lang, region) = match tag.split_once('_') {
            Some((l, r)) => (l.to_ascii_lowercase(), Some(r.to_ascii_uppercase())),
            None => (tag.to_ascii_lowercase(), None),
        };
        let mut candidates = Vec::new();
        if !lang.is_empty() {
            if let Some(region) = &region {
                candidates.push(format!("{lang}_{region}"));
            }
            if let Some(country) = country.filter(|c| c.len() == 2) {
                candidates.push(format!("{lang}_{}", country.to_ascii_uppercase()));
            }
            candidates.push(format!("{lang}_{}", lang.to_ascii_uppercase()));
            // Languages whose main country code differs from the language code.
            let main = match lang.as_str() {
                "en" => "en_US",
                "ja" => "ja_JP",
                "sv" => "sv_SE",
                "da" => "da_DK",
                "cs" => "cs_CZ",
                "ko" => "ko_KR",
                "zh" => "zh_CN",
                "el" => "el_GR",
                "nb" | "no" => "nb_NO",
                "uk" => "uk_UA",
                _ => "",
            };
            if !main.is_empty() {
                candidates.push(main.to_owned());
            }
        }
        candidates.push(fallback.replace('-', "_"));
        candidates
            .iter()
            .find_map(|c| Locale::try_from(c.as_str()).ok())
            .map(Self)
            .unwrap_or_default()
    }

    /// The locale's name, e.g. `de_AT`.
    pub fn name(self) -> String {
        format!("{:?}", self.0)
    }

    /// `units` (scale 4) of `currency`, e.g. `$1,234.50`, `1.234,50 €`, `￥1,235`.
    pub fn money(self, units: i64, currency: &str) -> String {
        let code = currency.trim().to_ascii_uppercase();
        let digits = crate::domain::money::Currency::parse(&code)
            .map(|c| c.exponent())
            .unwrap_or(2);
        let amount = crate::domain::money::amount_from_units(units, &code)
            .round_dp_with_strategy(digits, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let negative = amount.is_sign_negative() && !amount.is_zero();
        let text = format!("{:.*}", digits as usize, amount.abs());
        let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
        let l = self.0;
        let point = non_empty(locale_match!(l => LC_MONETARY::MON_DECIMAL_POINT), ".");
        let sep = locale_match!(l => LC_MONETARY::MON_THOUSANDS_SEP);
        let grouping = locale_match!(l => LC_MONETARY::MON_GROUPING);
        let mut number = group(whole, sep, grouping);
        if !frac.is_empty() {
            number.push_str(point);
            number.push_str(frac);
        }
        let symbol = self.symbol(&code);
        let precedes = locale_match!(l => LC_MONETARY::P_CS_PRECEDES) == 1;
        let space = if locale_match!(l => LC_MONETARY::P_SEP_BY_SPACE) == 1 {
            "\u{a0}"
        } else {
            ""
        };
        let sign = if negative { "-" } else { "" };
        if precedes {
            format!("{sign}{symbol}{space}{number}")
        } else {
            format!("{sign}{number}{space}{symbol}")
        }
    }

    /// The symbol a reader of this locale understands: the local one for the local currency;
    /// the ISO symbol otherwise, unless it would be mistaken for the local one ($ in Canada
    /// for US dollars), then the code.
    fn symbol(self, code: &str) -> String {
        let l = self.0;
        let local_code = locale_match!(l => LC_MONETARY::INT_CURR_SYMBOL).trim();
        let local_symbol = locale_match!(l => LC_MONETARY::CURRENCY_SYMBOL);
        if local_code == code && !local_symbol.is_empty() {
            return local_symbol.to_owned();
        }
        let iso = iso_currency::Currency::from_code(code)
            .map(|c| c.symbol().symbol)
            .unwrap_or_else(|| code.to_owned());
        if iso == local_symbol || iso == "¤" {
            code.to_owned()
        } else {
            iso
        }
    }

    /// A calendar day in the locale's own date pattern (`11/27/2026`, `27.11.2026`).
    pub fn date(self, day: NaiveDate) -> String {
        use std::fmt::Write;
        let l = self.0;
        let pattern = locale_match!(l => LC_TIME::D_FMT);
        let mut out = String::new();
        // Some locales' patterns use era and alternative-digit forms (%Ey, %Od) chrono does
        // not write: those dates fall back to ISO 8601.
        if write!(
            out,
            "{}",
            day.format_localized(non_empty(pattern, "%Y-%m-%d"), l)
        )
        .is_err()
        {
            out = day.format("%Y-%m-%d").to_string();
        }
        out
    }

    /// The day an instant falls on in `tz`, written as [`Self::date`].
    pub fn date_in(self, at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
        self.date(at.with_timezone(&tz).date_naive())
    }
}

fn non_empty<'a>(value: &'a str, fallback: &'a str) -> &'a str {
    if value.is_empty() { fallback } else { value }
}

/// Digits grouped from the right as POSIX `mon_grouping` says: each entry a group size, the
/// last repeating (India: 3 then 2s).
fn group(whole: &str, sep: &str, grouping: &[i64]) -> String {
    if sep.is_empty() || grouping.is_empty() || grouping[0] <= 0 {
        return whole.to_owned();
    }
    let digits: Vec<char> = whole.chars().collect();
    let mut groups: Vec<String> = Vec::new();
    let mut end = digits.len();
    let mut i = 0;
    while end > 0 {
        let size = grouping
            .get(i)
            .or(grouping.last())
            .copied()
            .unwrap_or(3)
            .max(1) as usize;
        let start = end.saturating_sub(size);
        groups.push(digits[start..end].iter().collect());
        end = start;
        i += 1;
    }
    groups.reverse();
    groups.join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(tag: &str) -> ShopperLocale {
        ShopperLocale::resolve(Some(tag), None, "en_US")
    }

    #[test]
    fn language_tags_resolve_to_locales() {
        assert_eq!(l("de-AT").name(), "de_AT");
        assert_eq!(l("fr").name(), "fr_FR");
        assert_eq!(l("en-GB,en;q=0.9").name(), "en_GB");
        assert_eq!(l("en").name(), "en_US");
        assert_eq!(l("ja").name(), "ja_JP");
        assert_eq!(
            ShopperLocale::resolve(Some("de"), Some("ch"), "en_US").name(),
            "de_CH"
        );
        assert_eq!(
            ShopperLocale::resolve(Some("xx-YY"), None, "fr_CA").name(),
            "fr_CA"
        );
        assert_eq!(ShopperLocale::resolve(None, None, "bogus").name(), "en_US");
    }

    #[test]
    fn money_follows_the_locale() {
        assert_eq!(l("en-US").money(12_345_000, "USD"), "$1,234.50");
        assert_eq!(l("de-DE").money(12_345_000, "EUR"), "1.234,50\u{a0}€");
        assert_eq!(
            l("fr-FR").money(12_345_000, "EUR"),
            "1\u{202f}234,50\u{a0}€"
        );
        assert_eq!(l("en-GB").money(99_900, "GBP"), "£9.99");
        // Yen has no minor unit.
        assert_eq!(l("ja-JP").money(12_345_000, "JPY"), "￥1,235");
        // US dollars for a Canadian reader: not a bare "$".
        assert_eq!(l("en-CA").money(10_000, "USD"), "USD1.00");
        assert_eq!(l("en-US").money(-25_000, "EUR"), "-€2.50");
        assert_eq!(l("hi-IN").money(123_456_780_000, "INR"), "₹1,23,45,678.00");
    }

    #[test]
    fn dates_follow_the_locale() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
        assert_eq!(l("en-US").date(day), "11/27/2026");
        assert_eq!(l("de-DE").date(day), "27.11.2026");
        assert_eq!(l("fr-FR").date(day), "27/11/2026");
        assert_eq!(l("ja-JP").date(day), "2026年11月27日");
        // Thai writes the Buddhist era (%Ey), which chrono cannot: ISO instead of a panic.
        assert_eq!(l("th-TH").date(day), "2026-11-27");
        for tag in ["fa-IR", "my-MM", "lo-LA", "or-IN", "az-IR"] {
            assert!(!l(tag).date(day).is_empty(), "{tag}");
        }
    }
}
