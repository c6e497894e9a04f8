//! [`SqliteAllocator`]: numbers that are never handed out twice.

use super::*;

pub struct SqliteAllocator(pub Arc<Db>);

#[async_trait]
impl Allocator for SqliteAllocator {
    async fn allocate(&self, namespace: &str, owner: &str, max: u64) -> Result<u64, AllocError> {
        let (ns, owner) = (namespace.to_string(), owner.to_string());
        let r = self
            .0
            .write(move |c| {
                let existing: Option<i64> = c
                    .query_row(sql::SELECT_ALLOCATIONS, params![ns, owner], |r| r.get(0))
                    .optional()
                    .map_err(unavailable)?;
                if let Some(o) = existing {
                    return Ok(Some(o as u64));
                }
                let last: i64 = c
                    .query_row(
                        "SELECT last FROM counters WHERE namespace = ?1",
                        [&ns],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?
                    .unwrap_or(0);
                let next = last + 1;
                if next as u64 > max {
                    return Ok(None);
                }
                c.execute(sql::INSERT_COUNTERS, params![ns, next])
                    .map_err(unavailable)?;
                c.execute(sql::INSERT_ALLOCATIONS, params![ns, owner, next])
                    .map_err(unavailable)?;
                Ok(Some(next as u64))
            })
            .await?;
        r.ok_or_else(|| AllocError::Exhausted(namespace.to_string()))
    }
}
