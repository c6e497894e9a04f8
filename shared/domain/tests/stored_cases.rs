//! Cases stored by earlier versions still load, and serialise to the same bytes.
//!
//! `tests/stored/*.json` were written by the version before typed step results (one per
//! shape of result: mail, pickup and window issuance; insurance and card not requested;
//! maternity benefit not eligible; an officer's approval data; a return and a rejection).

use onething_domain::case::Case;

fn check(name: &str, stored: &str) {
    let case: Case = serde_json::from_str(stored)
        .unwrap_or_else(|e| panic!("{name}: a stored case no longer loads: {e}"));
    let again = serde_json::to_string(&case).expect("serialises");
    assert_eq!(again, stored.trim_end(), "{name}: stored bytes differ");
}

#[test]
fn cases_stored_before_typed_results_load_and_serialise_to_the_same_bytes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stored");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            check(
                &path.display().to_string(),
                &std::fs::read_to_string(&path).unwrap(),
            );
            n += 1;
        }
    }
    assert!(n >= 6, "expected the stored fixtures, found {n}");
}
