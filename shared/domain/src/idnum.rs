//! Citizen ID numbers (GB 11643-1999) and Zhejiang division codes.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Division codes in force at 2024-12-31 (the newborn's number uses these).
pub const CURRENT_DIVISIONS: &str = include_str!("../data/zj-division-codes-2024.txt");
/// Every Zhejiang code used since 1980 (older ID numbers may carry retired codes).
pub const HISTORICAL_DIVISIONS: &str = include_str!("../data/zj-division-codes-historical.txt");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("应为 18 位：17 位数字加 1 位数字或 X")]
    Pattern,
    #[error("号码中的出生日期不是真实日期")]
    Date,
    #[error("号码中的出生日期晚于今天")]
    Future,
    #[error("校验码不正确")]
    Checksum,
}

impl IdError {
    pub fn code(self) -> &'static str {
        match self {
            IdError::Pattern => "pattern",
            IdError::Date => "date",
            IdError::Future => "future",
            IdError::Checksum => "checksum",
        }
    }
}

/// A validated, normalised 18-character citizen ID number.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl fmt::Debug for IdNumber {
    /// Never prints the full number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", mask_id(&self.0))
    }
}

impl From<IdNumber> for String {
    fn from(v: IdNumber) -> String {
        v.0
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdError;
    /// Deserialisation of stored numbers: pattern and checksum only (no "future" check).
    fn try_from(s: String) -> Result<Self, IdError> {
        let n = normalise(&s);
        check_shape(&n)?;
        Ok(IdNumber(n))
    }
}

/// Trim, fold full-width digits/letters to ASCII, upper-case a trailing x.
pub fn normalise(raw: &str) -> String {
    let folded: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .collect();
    let mut s = folded;
    if s.ends_with('x') {
        s.pop();
        s.push('X');
    }
    s
}

pub fn check_char(first17: &str) -> char {
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS.iter())
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

fn check_shape(n: &str) -> Result<NaiveDate, IdError> {
    let bytes = n.as_bytes();
    if bytes.len() != 18
        || !bytes[..17].iter().all(u8::is_ascii_digit)
        || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
    {
        return Err(IdError::Pattern);
    }
    let date = NaiveDate::parse_from_str(&n[6..14], "%Y%m%d").map_err(|_| IdError::Date)?;
    if check_char(&n[..17]) != bytes[17] as char {
        return Err(IdError::Checksum);
    }
    Ok(date)
}

impl IdNumber {
    /// Parse a number typed by a person: normalise, then check pattern, real date,
    /// not in the future (relative to `today`), and the check character.
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, IdError> {
        let n = normalise(raw);
        let date = check_shape(&n)?;
        if date > today {
            return Err(IdError::Future);
        }
        Ok(IdNumber(n))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn address_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("validated")
    }

    pub fn sex(&self) -> Sex {
        let d = self.0.as_bytes()[16] - b'0';
        if d % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Zhejiang is judged by the province prefix, so retired county codes still count.
    pub fn is_zhejiang(&self) -> bool {
        self.0.starts_with("33")
    }

    pub fn masked(&self) -> String {
        mask_id(&self.0)
    }

    /// A copy holding the masked number, for documents shown to those who may not see
    /// it (it no longer parses as an ID number).
    pub(crate) fn masked_copy(&self) -> IdNumber {
        IdNumber(mask_id(&self.0))
    }

    /// Build the newborn's number from the household's county code, the birth date and
    /// the allocated ordinal (1-based) for that (county, date, sex).
    /// The sequence's last digit is odd for boys and even for girls; None if exhausted.
    pub fn assemble(county: &str, birth: NaiveDate, sex: Sex, ordinal: u32) -> Option<IdNumber> {
        if county.len() != 6 || !county.bytes().all(|b| b.is_ascii_digit()) || ordinal == 0 {
            return None;
        }
        let seq = match sex {
            Sex::Male => ordinal * 2 - 1,
            Sex::Female => ordinal * 2,
        };
        if seq > 999 {
            return None;
        }
        let first17 = format!(
            "{county}{:04}{:02}{:02}{seq:03}",
            birth.year(),
            birth.month(),
            birth.day()
        );
        let c = check_char(&first17);
        Some(IdNumber(format!("{first17}{c}")))
    }

    /// Most ordinals a (county, date, sex) can have: odd 001..999, even 002..998.
    pub fn max_ordinal(sex: Sex) -> u32 {
        match sex {
            Sex::Male => 500,
            Sex::Female => 499,
        }
    }
}

/// Mask an ID number for logs, reports and errors: keep the first 3 and last 2.
pub fn mask_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 5 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..3].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 5));
    out.extend(&chars[chars.len() - 2..]);
    out
}

/// Mask a name: keep the first character.
pub fn mask_name(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count();
            format!("{first}{}", "*".repeat(rest.max(1)))
        }
    }
}

/// Mask a phone number: keep the first 3 and last 4.
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..3].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 7));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// Mask an address: keep the first 6 characters (city and district).
pub fn mask_address(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let keep = chars.len().min(6);
    let mut out: String = chars[..keep].iter().collect();
    if chars.len() > keep {
        out.push_str("***");
    }
    out
}

/// Division code tables.
#[derive(Debug, Clone)]
pub struct Divisions {
    current: std::collections::BTreeMap<String, String>,
}

impl Divisions {
    pub fn builtin() -> Self {
        let mut current = std::collections::BTreeMap::new();
        for line in CURRENT_DIVISIONS.lines() {
            if let Some((code, name)) = line.trim().split_once(' ') {
                current.insert(code.to_string(), name.trim().to_string());
            }
        }
        Divisions { current }
    }

    /// The built-in list, parsed once.
    pub fn current() -> &'static Divisions {
        static D: std::sync::OnceLock<Divisions> = std::sync::OnceLock::new();
        D.get_or_init(Divisions::builtin)
    }

    /// A county-level code (not a province or city aggregate) in force now.
    pub fn is_current_county(&self, code: &str) -> bool {
        self.current.contains_key(code) && !code.ends_with("00")
    }

    pub fn name(&self, code: &str) -> Option<&str> {
        self.current.get(code).map(String::as_str)
    }

    /// Every county-level code in force, with its name, in code order.
    pub fn counties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.current
            .iter()
            .filter(|(code, _)| !code.ends_with("00"))
            .map(|(c, n)| (c.as_str(), n.as_str()))
    }

    /// The county a place named after it is in: `西湖区行政服务中心` → `330106` (the longest
    /// county name the text starts with; cities' own names do not count).
    pub fn county_named_in(&self, text: &str) -> Option<&str> {
        self.current
            .iter()
            .filter(|(code, name)| !code.ends_with("00") && text.trim().starts_with(name.as_str()))
            .max_by_key(|(_, name)| name.chars().count())
            .map(|(code, _)| code.as_str())
    }
}

/// The name of a division code (`330106` → `浙江省杭州市西湖区`), or "" when unknown.
pub fn place_name(code: &str) -> String {
    let d = Divisions::current();
    let name = |c: String| d.name(&c).unwrap_or("").to_string();
    let Some(county) = code.get(..6) else {
        return String::new();
    };
    let (province, city) = (
        format!("{}0000", &county[..2]),
        format!("{}00", &county[..4]),
    );
    let mut out = name(province);
    if city != county {
        out.push_str(&name(city));
    }
    out.push_str(&name(county.to_string()));
    out
}

/// A division code's name with its city (`330106` → `杭州市西湖区`; "" when unknown).
pub fn region_name(code: &str) -> String {
    place_name(code).trim_start_matches("浙江省").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(
            normalise(" １１０１０５１９４９１２３１００２ｘ "),
            "11010519491231002X"
        );
        assert_eq!(normalise("11010519491231002x"), "11010519491231002X");
    }

    #[test]
    fn assemble_is_valid_and_parity() {
        let b = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let boy = IdNumber::assemble("330106", b, Sex::Male, 1).unwrap();
        assert_eq!(&boy.as_str()[14..17], "001");
        assert_eq!(boy.sex(), Sex::Male);
        let girl = IdNumber::assemble("330106", b, Sex::Female, 3).unwrap();
        assert_eq!(&girl.as_str()[14..17], "006");
        assert_eq!(girl.sex(), Sex::Female);
        assert!(IdNumber::parse(girl.as_str(), b).is_ok());
        assert!(IdNumber::assemble("330106", b, Sex::Female, 500).is_none());
        assert!(IdNumber::assemble("330106", b, Sex::Male, 501).is_none());
        assert!(IdNumber::assemble("330106", b, Sex::Male, 500).is_some());
        assert_eq!(IdNumber::max_ordinal(Sex::Male), 500);
        assert_eq!(IdNumber::max_ordinal(Sex::Female), 499);
    }

    #[test]
    fn masks() {
        assert_eq!(mask_id("33010620250115002X"), "330*************2X");
        assert_eq!(mask_phone("13800000000"), "138****0000");
        assert_eq!(mask_name("王小溪"), "王**");
        assert_eq!(mask_name("李"), "李*");
    }

    #[test]
    fn divisions() {
        let d = Divisions::builtin();
        assert!(d.is_current_county("330106"));
        assert!(!d.is_current_county("330100"));
        assert!(!d.is_current_county("330103"), "retired code");
    }
}
