//! The supervision aggregates as DynamoDB holds them: one item per month, county, day and
//! shard (`AGG#{yyyymm}` / `{county}#{dd}#{shard}`), one number attribute per unit and
//! counter.
//!
//! A commit adds its tally's difference (see [`domain::projection`]) in the case's own
//! transaction, to its case's shard ([`shard_of`]): one of [`SHARDS`] items per county and
//! day, so that a backlog of one county's cases does not make its day's item a hot item
//! that every step's transaction conflicts on (two transactions touching one item cancel
//! each other); the report sums the shards back. A step's commit usually changes two units of the same county and day (the
//! department that finished, the one that starts, sometimes the case's own counters); with
//! one item per unit that was two or three updates, each billed twice in the transaction.
//! One item per county and day makes it one.
//!
//! An update is billed by the item's size after it, so the attribute names are short: a
//! one-letter unit and a short counter name (`ph` for the police's `handled`). A day of a
//! busy county holds a few dozen counters, a few hundred bytes: one write unit. Counter
//! names without a short form are kept whole after `~`, so that any counter round-trips.
//!
//! Items written before this layout (`{county}#{unit}#{dd}`, counters by their names) are
//! still read.

use crate::attr::{n, s, Item};
use crate::sdk_err;
use aws_sdk_dynamodb::types::Update;
use domain::projection::{Tally, TallyCell};
use ports::StoreError;
use std::collections::BTreeMap;

/// Items per county and day.
pub const SHARDS: u8 = 8;

/// The aggregate shard a case's commits add to (always the same for one case).
pub fn shard_of(case_id: &str) -> u8 {
    use sha2::{Digest, Sha256};
    Sha256::digest(case_id.as_bytes())[1] % SHARDS
}

/// Units and their letters (`case` and the departments).
const UNITS: [(&str, char); 7] = [
    ("case", 'c'),
    ("service_center", 's'),
    ("hospital", 'h'),
    ("police", 'p'),
    ("medical_insurance", 'm'),
    ("hrss", 'r'),
    ("health", 'e'),
];

/// Counters and their short names (prefixes end with `.`).
const COUNTERS: [(&str, &str); 22] = [
    ("total", "t"),
    ("completed", "cp"),
    ("completed_on_time", "ct"),
    ("joint", "j"),
    ("bad_open", "bo"),
    ("complaints_open", "ko"),
    ("complaints_answered", "ka"),
    ("shared", "sh"),
    ("uploaded", "up"),
    ("finished", "f"),
    ("archived", "a"),
    ("handled", "hd"),
    ("on_time", "ot"),
    ("returned", "rt"),
    ("rejected", "rj"),
    ("open", "o"),
    ("open_overdue", "oo"),
    ("fb_open", "fo"),
    ("fb_closed", "fc"),
    ("status.", "s."),
    ("rating.", "r."),
    ("fb_due.", "d."),
];

/// The attribute of `unit`'s counter `name`.
pub fn attribute(unit: &str, name: &str) -> String {
    let u = UNITS.iter().find(|(x, _)| *x == unit).map(|x| x.1);
    let short = COUNTERS.iter().find_map(|(long, short)| {
        if long.ends_with('.') {
            name.strip_prefix(long).map(|rest| format!("{short}{rest}"))
        } else {
            (name == *long).then(|| short.to_string())
        }
    });
    let histogram = name
        .strip_prefix('h')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    let name = match short {
        Some(s) => s,
        None if histogram => name.to_string(),
        None => format!("~{name}"),
    };
    match u {
        Some(u) => format!("{u}{name}"),
        // A unit without a letter: whole, before `|`.
        None => format!("{unit}|{name}"),
    }
}

/// The unit and counter name of an attribute written by [`attribute`].
pub fn parse_attribute(attr: &str) -> Option<(String, String)> {
    let (unit, rest) = match attr.split_once('|') {
        Some((u, r)) => (u.to_string(), r),
        None => {
            let c = attr.chars().next()?;
            let unit = UNITS.iter().find(|(_, x)| *x == c)?.0;
            (unit.to_string(), &attr[c.len_utf8()..])
        }
    };
    if let Some(whole) = rest.strip_prefix('~') {
        return Some((unit, whole.to_string()));
    }
    for (long, short) in COUNTERS {
        if long.ends_with('.') {
            if let Some(x) = rest.strip_prefix(short) {
                return Some((unit, format!("{long}{x}")));
            }
        } else if rest == short {
            return Some((unit, long.to_string()));
        }
    }
    let histogram = rest
        .strip_prefix('h')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    histogram.then(|| (unit, rest.to_string()))
}

/// The updates that add a tally (a commit's difference) to `shard`: one per month,
/// county and day, at most 100 counters each (expressions are limited in size).
pub fn updates(table: &str, tally: &Tally, shard: u8) -> Result<Vec<Update>, StoreError> {
    // (month, county, day) -> [(attribute, n)]
    type Day<'a> = (&'a str, &'a str, &'a str);
    let mut by_item: BTreeMap<Day, Vec<(String, i64)>> = BTreeMap::new();
    for (k, v) in tally {
        let mut parts = k.splitn(4, '|');
        let (Some(month), Some(county), Some(unit), Some(field)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (day, name) = field.split_once('.').unwrap_or(("00", field));
        by_item
            .entry((month, county, day))
            .or_default()
            .push((attribute(unit, name), *v));
    }
    let mut out = vec![];
    for ((month, county, day), counters) in by_item {
        for chunk in counters.chunks(100) {
            let mut u = Update::builder()
                .table_name(table)
                .key("pk", s(format!("AGG#{month}")))
                .key("sk", s(format!("{county}#{day}#{shard}")));
            let mut adds = vec![];
            for (i, (attr, v)) in chunk.iter().enumerate() {
                adds.push(format!("#f{i} :v{i}"));
                u = u
                    .expression_attribute_names(format!("#f{i}"), attr)
                    .expression_attribute_values(format!(":v{i}"), n(v));
            }
            out.push(
                u.update_expression(format!("ADD {}", adds.join(", ")))
                    .build()
                    .map_err(|e| sdk_err("update", e))?,
            );
        }
    }
    Ok(out)
}

/// A month's cells from its items (this layout and the one before it).
pub fn cells(month: &str, items: &[Item]) -> Vec<TallyCell> {
    let mut cells: BTreeMap<(String, String), TallyCell> = BTreeMap::new();
    let mut add = |county: &str, unit: &str, day: &str, name: &str, v: i64| {
        let cell = cells
            .entry((county.to_string(), unit.to_string()))
            .or_insert_with(|| TallyCell {
                month: month.to_string(),
                county: county.into(),
                unit: unit.into(),
                counters: Default::default(),
            });
        *cell.counters.entry(format!("{day}.{name}")).or_default() += v;
    };
    for item in items {
        let Some(sk) = item.get("sk").and_then(|v| v.as_s().ok()) else {
            continue;
        };
        let parts: Vec<&str> = sk.split('#').collect();
        for (attr, v) in item {
            if attr == "pk" || attr == "sk" {
                continue;
            }
            let Some(v) = v.as_n().ok().and_then(|x| x.parse::<i64>().ok()) else {
                continue;
            };
            let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
            match parts.as_slice() {
                // This layout (a shard after the day), and the one before shards.
                [county, day, shard] if digits(day) && digits(shard) => {
                    if let Some((unit, name)) = parse_attribute(attr) {
                        add(county, &unit, day, &name, v);
                    }
                }
                [county, day] => {
                    if let Some((unit, name)) = parse_attribute(attr) {
                        add(county, &unit, day, &name, v);
                    }
                }
                [county, unit, day] => add(county, unit, day, attr, v),
                _ => {}
            }
        }
    }
    cells.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_round_trips_through_its_short_attribute() {
        for (unit, name) in [
            ("case", "total"),
            ("case", "status.in_progress"),
            ("case", "rating.satisfied"),
            ("case", "completed_on_time"),
            ("police", "handled"),
            ("police", "h12"),
            ("police", "h0"),
            ("hrss", "fb_due.2026120315"),
            ("medical_insurance", "open_overdue"),
            ("hospital", "something_new"),
            ("hospital", "hx"),
            ("some_unit", "open"),
        ] {
            let a = attribute(unit, name);
            assert_eq!(
                parse_attribute(&a),
                Some((unit.to_string(), name.to_string())),
                "{a}"
            );
        }
        assert_eq!(attribute("police", "handled"), "phd");
        assert_eq!(attribute("case", "status.completed"), "cs.completed");
    }

    #[test]
    fn a_commits_tally_is_one_update_per_county_and_day() {
        let tally: Tally = [
            ("202612|330106|hospital|02.handled", 1),
            ("202612|330106|hospital|02.open", -1),
            ("202612|330106|police|02.open", 1),
            ("202612|330106|case|02.total", 1),
            ("202612|330108|police|02.open", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let u = updates("t", &tally, 5).unwrap();
        assert_eq!(u.len(), 2, "{u:?}");
        assert_eq!(u[0].key()["sk"].as_s().unwrap(), "330106#02#5");
        assert_eq!(u[0].expression_attribute_names().unwrap().len(), 4);
    }

    #[test]
    fn every_layout_is_read_back_into_cells() {
        let item = |sk: &str, attrs: &[(&str, i64)]| -> Item {
            let mut i: Item = [
                ("pk".to_string(), s("AGG#202612")),
                ("sk".to_string(), s(sk)),
            ]
            .into_iter()
            .collect();
            for (a, v) in attrs {
                i.insert(a.to_string(), n(v));
            }
            i
        };
        let items = vec![
            item("330106#02#0", &[("phd", 2), ("po", 1), ("ct", 1)]),
            item("330106#02#7", &[("phd", 4)]),
            item("330106#02", &[("phd", 1)]),
            item("330106#police#01", &[("handled", 3)]),
        ];
        let cells = cells("202612", &items);
        let police = cells.iter().find(|c| c.unit == "police").unwrap();
        assert_eq!(
            police.counters["02.handled"], 7,
            "the shards and the item before them"
        );
        assert_eq!(police.counters["02.open"], 1);
        assert_eq!(police.counters["01.handled"], 3);
        let case = cells.iter().find(|c| c.unit == "case").unwrap();
        assert_eq!(case.counters["02.total"], 1);
    }
}
