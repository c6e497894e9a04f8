//! Rules for text people type: free text (comments, complaints, reasons, answers) and
//! personal names. Text shown to others never carries control characters, invisible
//! formatting (zero-width, bidirectional overrides) or markup.

/// Characters no stored text may hold: controls (a line feed is allowed in free text),
/// zero-width and joiner characters, bidirectional embeddings/overrides/isolates, the
/// byte-order mark and interlinear annotation marks.
pub fn is_forbidden(c: char, allow_newline: bool) -> bool {
    (c.is_control() && !(allow_newline && c == '\n'))
        || matches!(c,
            '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}')
}

/// Why free text is refused, if it is: empty, longer than `max` characters, or holding a
/// forbidden character.
pub fn free_text_problem(s: &str, max: usize) -> Option<(&'static str, String)> {
    let t = s.trim();
    if t.is_empty() {
        Some(("required", "此项不能为空".into()))
    } else if t.chars().count() > max {
        Some(("too_long", format!("最多 {max} 个字符")))
    } else if t.chars().any(|c| is_forbidden(c, true)) {
        Some((
            "control_character",
            "不能包含控制字符或不可见的格式字符".into(),
        ))
    } else {
        None
    }
}

fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}')
}

/// Whether `s` is a personal name as the household register writes it. Two forms:
/// - Chinese: Chinese characters, with `·` (U+00B7) between parts of a transcribed
///   name (e.g. 阿依古丽·买买提), never first, last or doubled;
/// - foreign: Latin letters, with single spaces, hyphens, apostrophes or full stops
///   between them (e.g. `Anna-Maria O'Neil`), starting and ending with a letter.
///
/// Mixed scripts, digits, emoji, markup and invisible characters are refused.
pub fn valid_name(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let (Some(first), Some(last)) = (chars.first(), chars.last()) else {
        return false;
    };
    // Never first or last, never two in a row (except an initial's full stop before a
    // space, as in `J. Smith`).
    let separators_ok = |sep: &dyn Fn(char) -> bool| {
        !sep(*first)
            && !sep(*last)
            && chars
                .windows(2)
                .all(|w| !(sep(w[0]) && sep(w[1])) || w == ['.', ' '])
    };
    if chars.iter().all(|&c| is_han(c) || c == '·') {
        return chars.iter().any(|&c| is_han(c)) && separators_ok(&|c| c == '·');
    }
    let latin_sep = |c: char| matches!(c, ' ' | '-' | '\'' | '.');
    chars
        .iter()
        .all(|&c| c.is_ascii_alphabetic() || latin_sep(c))
        && separators_ok(&latin_sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_and_foreign_names_by_their_rules() {
        for ok in [
            "王小溪",
            "阿依古丽·买买提",
            "欧阳娜娜",
            "Anna-Maria O'Neil",
            "J. Smith",
        ] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "·王",
            "王·",
            "王··溪",
            "王小溪😀",
            "王\u{202E}溪",
            "王\u{200B}溪",
            "<b>王</b>",
            "王 Anna",
            "Anna  Smith",
            "王1",
            "-Anna",
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn free_text_refuses_invisible_and_control_characters() {
        assert!(free_text_problem("孩子的名字写错了\n请更正", 100).is_none());
        for bad in ["a\u{0007}", "a\u{202E}b", "a\u{200D}b", "\u{FEFF}x", "a\rb"] {
            assert_eq!(free_text_problem(bad, 100).unwrap().0, "control_character");
        }
        assert_eq!(free_text_problem("  ", 100).unwrap().0, "required");
        assert_eq!(free_text_problem("长长长", 2).unwrap().0, "too_long");
    }
}

/// A message a citizen (or an officer) may read as it is: Chinese, written where the
/// decision is made, with machine codes kept in `code` fields. The API shows it
/// unchanged; nothing at the edge guesses a message's language or replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenText(std::borrow::Cow<'static, str>);

impl CitizenText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether `s` reads as a message for citizens: it holds Chinese and no
    /// snake_case code or run of English words (a product name in brackets, such as
    /// `Idempotency-Key`, is fine).
    pub fn is_fit(s: &str) -> bool {
        let chinese = s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        chinese && !s.contains('_') && !s.contains("::")
    }
}

/// The internal identifiers in a text a citizen reads (none should be there): snake_case
/// codes (`window_officer`), actor labels (`system:police`), site ids (`SC330302`),
/// institution codes (`H330106001`) and bare division codes (`330302`, not part of a
/// longer number such as an ID number or a case id).
pub fn internal_codes(s: &str) -> Vec<String> {
    let mut out = vec![];
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let in_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-');
        if !in_word(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && in_word(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let word = word.trim_matches(|c| c == ':' || c == '-');
        let digits = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
        let code = (word.contains('_') && word.chars().any(|c| c.is_ascii_lowercase()))
            || (word.contains(':') && word.chars().any(|c| c.is_ascii_lowercase()))
            || (word.len() >= 8 && word.starts_with("SC") && digits(&word[2..]))
            || (word.len() == 10 && word.starts_with('H') && digits(&word[1..]))
            || (word.len() == 6 && word.starts_with("33") && digits(word));
        if code {
            out.push(word.to_string());
        }
    }
    out
}

#[cfg(test)]
mod codes {
    use super::internal_codes;

    #[test]
    fn codes_are_found_and_numbers_a_family_needs_are_not() {
        assert_eq!(
            internal_codes("受理人 window_officer:service_center:window-330302，地区 330302"),
            ["window_officer:service_center:window-330302", "330302"]
        );
        assert_eq!(internal_codes("请到SC33010612号窗口领取"), ["SC33010612"]);
        assert_eq!(
            internal_codes("请凭取件码 P00000012 到 SC330102 领取"),
            ["SC330102"]
        );
        assert_eq!(internal_codes("由 system:police 处理"), ["system:police"]);
        assert_eq!(internal_codes("助产机构 H330106001"), ["H330106001"]);
        assert!(internal_codes(
            "您的出生“一件事”（BC2026120812AB）已受理，公民身份号码 330106202612060027，运单号 EA00000012 3CN，邮编 310012，440元"
        )
        .is_empty());
    }
}

impl From<&'static str> for CitizenText {
    fn from(s: &'static str) -> Self {
        CitizenText(std::borrow::Cow::Borrowed(s))
    }
}

impl From<String> for CitizenText {
    fn from(s: String) -> Self {
        CitizenText(std::borrow::Cow::Owned(s))
    }
}

impl std::fmt::Display for CitizenText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
