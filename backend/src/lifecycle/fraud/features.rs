//! The parts of the fraud facts that come from the order alone: pure functions over its
//! addresses, email, shipping and lines.

use crate::domain::Address;

use super::model::AddressDistance;

/// Throwaway-mail domains seen most on fraudulent orders (a tenant list could extend it).
const DISPOSABLE_DOMAINS: &[&str] = &[
    "mailinator.com",
    "guerrillamail.com",
    "guerrillamail.net",
    "sharklasers.com",
    "grr.la",
    "10minutemail.com",
    "10minutemail.net",
    "temp-mail.org",
    "tempmail.com",
    "tempmailo.com",
    "yopmail.com",
    "yopmail.net",
    "trashmail.com",
    "trashmail.de",
    "getnada.com",
    "nada.email",
    "dispostable.com",
    "maildrop.cc",
    "throwawaymail.com",
    "fakeinbox.com",
    "mintemail.com",
    "mohmal.com",
    "emailondeck.com",
    "spamgourmet.com",
    "mailnesia.com",
    "mytemp.email",
    "tempr.email",
    "discard.email",
    "burnermail.io",
    "moakt.com",
    "mailcatch.com",
    "inboxkitten.com",
    "tmpmail.org",
    "tmpmail.net",
    "emailfake.com",
    "harakirimail.com",
    "33mail.com",
    "spambox.us",
    "mail.tm",
];

/// Parcel forwarders: their names appear in the address lines of the parcels they receive.
const FORWARDERS: &[&str] = &[
    "myus",
    "shipito",
    "stackry",
    "planet express",
    "usgobuy",
    "borderlinx",
    "forward2me",
    "viabox",
    "ship7",
    "opas",
    "bongo",
    "shop & ship",
    "shopandship",
    "reship",
    "parcl",
    "comgateway",
    "myshopa",
    "eshopworld",
    "quikpak",
    "fishisfast",
    "ship2me",
    "jetcarrier",
    "global shopaholics",
    "kango express",
    "baltic post",
    "polar express forwarding",
];

const EXPRESS_WORDS: &[&str] = &[
    "express",
    "overnight",
    "next day",
    "next-day",
    "nextday",
    "priority",
    "expedited",
    "1-day",
    "one day",
    "2-day",
    "same day",
    "same-day",
];

pub fn is_disposable(email: &str) -> bool {
    let domain = email
        .rsplit('@')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    DISPOSABLE_DOMAINS
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
}

/// A shipping service name or code that promises speed.
pub fn is_express(service: &str) -> bool {
    let s = service.to_ascii_lowercase();
    EXPRESS_WORDS.iter().any(|w| s.contains(w))
}

fn address_text(a: &Address) -> String {
    [
        a.company.as_deref(),
        Some(a.line1.as_str()),
        a.line2.as_deref(),
        a.name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
    .to_ascii_lowercase()
}

/// A forwarder known by name, or one of the tenant's own listed address fragments.
pub fn is_forwarder(a: &Address, tenant_fragments: &[String]) -> bool {
    let text = address_text(a);
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '&')
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.join(" ");
    FORWARDERS.iter().any(|f| {
        // Whole words, so "opas" does not match "topaste".
        format!(" {joined} ").contains(&format!(" {f} "))
    }) || tenant_fragments
        .iter()
        .map(|f| f.trim().to_ascii_lowercase())
        .filter(|f| f.len() >= 4)
        .any(|f| {
            let postal = a.postal_code.as_deref().unwrap_or("").to_ascii_lowercase();
            text.contains(&f) || (!postal.is_empty() && f == postal)
        })
}

pub fn distance(billing: Option<&Address>, shipping: Option<&Address>) -> AddressDistance {
    let (Some(b), Some(s)) = (billing, shipping) else {
        return AddressDistance::Unknown;
    };
    let norm = |v: Option<&str>| v.map(|x| x.trim().to_ascii_lowercase()).unwrap_or_default();
    if b.country != s.country {
        AddressDistance::OtherCountry
    } else if norm(Some(&b.line1)) == norm(Some(&s.line1))
        && norm(b.postal_code.as_deref()) == norm(s.postal_code.as_deref())
    {
        AddressDistance::Same
    } else if norm(b.region.as_deref()) == norm(s.region.as_deref()) {
        AddressDistance::SameRegion
    } else {
        AddressDistance::SameCountry
    }
}

/// An email that shares no part of the customer's name and looks machine-made (mostly
/// digits or random letters). Plenty of real addresses share nothing with the name, so this
/// needs both.
pub fn name_email_mismatch(name: Option<&str>, email: &str) -> bool {
    let Some(name) = name else { return false };
    let local: String = email
        .split('@')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let parts: Vec<String> = name
        .split_whitespace()
        .map(|p| {
            p.to_ascii_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
        })
        .filter(|p| p.len() >= 3)
        .collect();
    if parts.is_empty() || local.is_empty() {
        return false;
    }
    if parts
        .iter()
        .any(|p| local.contains(p.as_str()) || local.contains(&p[..3]))
    {
        return false;
    }
    let digits = local.chars().filter(char::is_ascii_digit).count();
    let vowels = local.chars().filter(|c| "aeiouy".contains(*c)).count();
    let letters = local.chars().filter(char::is_ascii_alphabetic).count();
    digits >= 4 || (letters >= 6 && vowels * 5 < letters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(line1: &str, region: &str, postal: &str, country: &str) -> Address {
        Address {
            name: None,
            company: None,
            line1: line1.into(),
            line2: None,
            city: "City".into(),
            region: Some(region.into()),
            postal_code: Some(postal.into()),
            country: country.into(),
            phone: None,
        }
    }

    #[test]
    fn disposable_domains_and_their_subdomains() {
        assert!(is_disposable("x@mailinator.com"));
        assert!(is_disposable("x@eu.Mailinator.com"));
        assert!(!is_disposable("x@gmail.com"));
        assert!(!is_disposable("x@notmailinator.com"));
    }

    #[test]
    fn forwarders_by_name_and_by_tenant_list() {
        let mut a = addr("4500 NE 91st Ave", "OR", "97220", "US");
        a.line2 = Some("Suite MyUS 123456".into());
        assert!(is_forwarder(&a, &[]));
        let plain = addr("1 Topaste Road", "OR", "97220", "US");
        assert!(!is_forwarder(&plain, &[]));
        assert!(is_forwarder(&plain, &["97220".into()]));
        assert!(is_forwarder(&plain, &["topaste road".into()]));
    }

    #[test]
    fn distances() {
        let home = addr("1 Main St", "CA", "94105", "US");
        assert_eq!(distance(Some(&home), Some(&home)), AddressDistance::Same);
        let work = addr("9 Market St", "CA", "94103", "US");
        assert_eq!(
            distance(Some(&home), Some(&work)),
            AddressDistance::SameRegion
        );
        let ny = addr("9 Broadway", "NY", "10001", "US");
        assert_eq!(
            distance(Some(&home), Some(&ny)),
            AddressDistance::SameCountry
        );
        let fr = addr("9 Rue de Rivoli", "", "75001", "FR");
        assert_eq!(
            distance(Some(&home), Some(&fr)),
            AddressDistance::OtherCountry
        );
        assert_eq!(distance(None, Some(&fr)), AddressDistance::Unknown);
    }

    #[test]
    fn name_and_email() {
        assert!(!name_email_mismatch(
            Some("Jane Doe"),
            "jane.doe@example.com"
        ));
        assert!(!name_email_mismatch(Some("Jane Doe"), "jdoe88@example.com"));
        assert!(!name_email_mismatch(
            Some("Jane Doe"),
            "sunflower@example.com"
        ));
        assert!(name_email_mismatch(
            Some("Jane Doe"),
            "xk83920571@example.com"
        ));
        assert!(name_email_mismatch(
            Some("Jane Doe"),
            "qwrtzpsdfg@example.com"
        ));
        assert!(!name_email_mismatch(None, "xk83920571@example.com"));
    }

    #[test]
    fn express_services() {
        assert!(is_express("UPS Next Day Air"));
        assert!(is_express("Priority Mail Express"));
        assert!(!is_express("Standard Shipping"));
    }
}
