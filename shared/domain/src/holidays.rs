//! The statutory holidays (《全国年节及纪念日放假办法》 as amended in 2024, in force since
//! 2025-01-01): 13 days a year, computable for any year from the Gregorian date, the
//! lunar calendar and the Qingming solar term. Each year's State Council notice adds the
//! bridging days off and the swapped working weekends (调休): the calendar data holds
//! those; a year without its notice counts these days off and is provisional.

use chrono::{Datelike, NaiveDate};

/// The year's statutory holidays, in date order, each with its festival's name.
pub fn statutory(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let ymd = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d);
    let mut days: Vec<(NaiveDate, &'static str)> = vec![];
    let mut add = |d: Option<NaiveDate>, name: &'static str| {
        if let Some(d) = d {
            days.push((d, name));
        }
    };
    add(ymd(1, 1), "元旦");
    // 春节: the lunar New Year's Eve and the first three days of the lunar year.
    if let Some(new_year) = lunar(year, 1, 1) {
        for offset in -1..=2 {
            add(
                new_year.checked_add_signed(chrono::Duration::days(offset)),
                "春节",
            );
        }
    }
    add(qingming(year), "清明节");
    add(ymd(5, 1), "劳动节");
    add(ymd(5, 2), "劳动节");
    add(lunar(year, 5, 5), "端午节");
    add(lunar(year, 8, 15), "中秋节");
    for d in 1..=3 {
        add(ymd(10, d), "国庆节");
    }
    days.sort();
    days
}

/// Whether `date` is one of its year's statutory holidays.
pub fn is_statutory(date: NaiveDate) -> bool {
    statutory(date.year()).iter().any(|(d, _)| *d == date)
}

/// The Gregorian date of a day of a (non-leap) lunar month of lunar year `year`.
fn lunar(year: i32, month: u8, day: u8) -> Option<NaiveDate> {
    let s = lunar_lite::lunar_to_solar(lunar_lite::LunarDate {
        year,
        month,
        day,
        is_leap_month: false,
    })
    .ok()?;
    NaiveDate::from_ymd_opt(s.year, u32::from(s.month), u32::from(s.day))
}

/// The day of the Qingming solar term (April 4–6): the standard formula
/// `[Y·0.2422 + C] − [Y/4]` with `C` = 5.59 for the 1900s and 4.81 for the 2000s.
fn qingming(year: i32) -> Option<NaiveDate> {
    let (y, c) = match year {
        1901..=1999 => (year - 1900, 5.59),
        2000..=2099 => (year - 2000, 4.81),
        _ => return None,
    };
    let day = (f64::from(y) * 0.2422 + c).floor() as i32 - y / 4;
    NaiveDate::from_ymd_opt(year, 4, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn thirteen_days_a_year_with_the_festivals_as_published() {
        for year in 2025..=2035 {
            assert_eq!(statutory(year).len(), 13, "{year}");
        }
        // 2027: the lunar year begins on 6 February; 清明 is on 5 April.
        let y2027: Vec<NaiveDate> = statutory(2027).into_iter().map(|x| x.0).collect();
        for day in [
            d(2027, 1, 1),
            d(2027, 2, 5),
            d(2027, 2, 6),
            d(2027, 2, 7),
            d(2027, 2, 8),
            d(2027, 4, 5),
        ] {
            assert!(y2027.contains(&day), "{day}");
        }
        assert_eq!(qingming(2025), Some(d(2025, 4, 4)));
        assert_eq!(qingming(2026), Some(d(2026, 4, 5)));
    }
}
