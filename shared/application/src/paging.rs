//! Paged lists (`?limit=` default 20, at most 100; `?cursor=` opaque): keyset paging on
//! each list's sort key, so that every item appears exactly once across pages even while
//! the list changes between requests.

use crate::ServiceError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::problem::Problem;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// Which page is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    /// The sort key of the last item of the previous page.
    pub after: Option<String>,
}

impl PageRequest {
    /// From the query's `limit` and `cursor`.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<PageRequest, ServiceError> {
        let mut p = vec![];
        let limit = match limit.map(str::parse::<usize>) {
            None => DEFAULT_LIMIT,
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                p.push(Problem::new("limit", "range", "每页条数应为 1 到 100"));
                DEFAULT_LIMIT
            }
        };
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|k| k.starts_with("k1:"))
            {
                Some(k) => Some(k[3..].to_string()),
                None => {
                    p.push(Problem::new(
                        "cursor",
                        "format",
                        "分页标记无效，请从第一页重新查询",
                    ));
                    None
                }
            },
        };
        if !p.is_empty() {
            return Err(ServiceError::Invalid(p));
        }
        Ok(PageRequest { limit, after })
    }

    /// This page of `items` (any order): sorted by `key`, those after the cursor, at most
    /// `limit`, and the cursor of the next page (None on the last).
    pub fn page<T>(
        &self,
        mut items: Vec<T>,
        key: impl Fn(&T) -> String,
    ) -> (Vec<T>, Option<String>) {
        items.sort_by_cached_key(|x| key(x));
        let mut rest: Vec<T> = items
            .into_iter()
            .filter(|x| self.after.as_ref().is_none_or(|a| key(x) > *a))
            .collect();
        let more = rest.len() > self.limit;
        rest.truncate(self.limit);
        let next = more
            .then(|| rest.last().map(|x| cursor_for(&key(x))))
            .flatten();
        (rest, next)
    }
}

/// The opaque cursor of a page that ends at `key`.
pub fn cursor_for(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("k1:{key}"))
}

/// A sort key that orders times ascending (`newest_first`: descending), then ids.
pub fn time_key(t: chrono::DateTime<chrono::FixedOffset>, id: &str, newest_first: bool) -> String {
    let ms = t.timestamp_millis();
    let ms = if newest_first { i64::MAX - ms } else { ms };
    format!("{ms:020}|{id}")
}
