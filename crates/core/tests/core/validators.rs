//! Property tests of the check-character validators: every valid code is
//! accepted, and every single-character change of it is rejected.

use proptest::prelude::*;
use wangge_core::creditcode::{self, CreditCode};
use wangge_core::idnumber::{self, IdNumber};

const PROVINCES: &[&str] = &["11", "31", "34", "44", "51", "65", "81"];
const CREDIT_CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

fn id_numbers() -> impl Strategy<Value = String> {
    (
        prop::sample::select(PROVINCES),
        1u8..=99,
        1u8..=99,
        1920i16..=2025,
        1i8..=12,
        1i8..=28,
        0u16..=999,
    )
        .prop_map(|(p, pref, county, y, m, d, seq)| {
            let first17 = format!("{p}{pref:02}{county:02}{y:04}{m:02}{d:02}{seq:03}");
            let check = idnumber::check_char(first17.as_bytes()) as char;
            format!("{first17}{check}")
        })
}

fn credit_codes() -> impl Strategy<Value = String> {
    let any = prop::sample::select(CREDIT_CHARSET);
    (
        prop::collection::vec(any.clone(), 2),
        prop::collection::vec(b'0'..=b'9', 6),
        prop::collection::vec(any, 9),
    )
        .prop_map(|(head, region, org)| {
            let first17: Vec<u8> = head.into_iter().chain(region).chain(org).collect();
            let check = creditcode::check_char(&first17).expect("charset only");
            let mut code = String::from_utf8(first17).expect("ascii");
            code.push(check as char);
            code
        })
}

/// Every string that differs from `s` in exactly one position, using
/// characters from `alphabet`.
fn single_changes(s: &str, alphabet: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..s.len() {
        for &c in alphabet {
            if c != s.as_bytes()[i] {
                let mut b = s.as_bytes().to_vec();
                b[i] = c;
                out.push(String::from_utf8(b).expect("ascii"));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_valid_id_number_is_accepted(id in id_numbers()) {
        let parsed = IdNumber::parse(&id).expect("valid by construction");
        prop_assert_eq!(parsed.expose(), id.as_str());
        prop_assert_eq!(parsed.masked().len(), 18);
        prop_assert!(!parsed.masked().contains(&id[6..14]), "birth date never shows");
    }

    #[test]
    fn every_single_change_of_an_id_number_is_rejected(id in id_numbers()) {
        for changed in single_changes(&id, b"0123456789X") {
            prop_assert!(IdNumber::parse(&changed).is_err(), "{} accepted (from {})", changed, id);
        }
    }

    #[test]
    fn every_valid_credit_code_is_accepted(code in credit_codes()) {
        let parsed = CreditCode::parse(&code).expect("valid by construction");
        prop_assert_eq!(parsed.as_str(), code.as_str());
    }

    #[test]
    fn every_single_change_of_a_credit_code_is_rejected(code in credit_codes()) {
        for changed in single_changes(&code, CREDIT_CHARSET) {
            prop_assert!(CreditCode::parse(&changed).is_err(), "{} accepted (from {})", changed, code);
        }
    }
}
