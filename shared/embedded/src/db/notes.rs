//! [`SqliteNotifier`]: notifications recorded once per sequence.

use super::*;

pub struct SqliteNotifier(pub Arc<Db>);

/// The keys of a message's counts on its day: the case's messages to the phone, and the
/// phone's (by digest), as the DynamoDB store keeps them.
fn count_keys(n: &Notification, day: chrono::NaiveDate) -> [String; 2] {
    let phone = domain::notice::phone_digest(&n.phone);
    [
        format!("case|{}|{phone}|{day}", n.case_id),
        format!("phone|{phone}|{day}"),
    ]
}

fn count(c: &Connection, key: &str) -> Result<u32, StoreError> {
    let n: Option<u32> = c
        .query_row(sql::NOTICE_COUNT, [key], |r| r.get(0))
        .optional()
        .map_err(unavailable)?;
    Ok(n.unwrap_or(0))
}

/// Whether the caps hold `n` back; if not, it is counted. Inside the write transaction.
fn held_back(c: &Connection, n: &Notification, caps: DailyCaps) -> Result<bool, StoreError> {
    let [case, phone] = count_keys(n, caps.day);
    if count(c, &case)? >= caps.per_case || count(c, &phone)? >= caps.per_phone {
        return Ok(true);
    }
    for key in [case, phone] {
        c.execute(sql::BUMP_NOTICE_COUNT, [key])
            .map_err(unavailable)?;
    }
    Ok(false)
}

#[async_trait]
impl Notifier for SqliteNotifier {
    async fn send(&self, n: &Notification, caps: Option<DailyCaps>) -> Result<(), StoreError> {
        let n = n.clone();
        self.0
            .write(move |c| {
                let seen = c
                    .query_row(sql::NOTIFICATION_EXISTS, params![n.case_id, n.seq], |_| {
                        Ok(())
                    })
                    .optional()
                    .map_err(unavailable)?;
                if seen.is_some() {
                    return Ok(());
                }
                let held = match caps {
                    Some(caps) => held_back(c, &n, caps)?,
                    None => false,
                };
                let d = Delivered {
                    notification: n.clone(),
                    channel: if held { ports::HELD } else { "local-record" }.into(),
                    sent_at: Utc::now(),
                };
                let doc = serde_json::to_string(&d).expect("serialises");
                c.execute(
                    sql::INSERT_NOTIFICATIONS,
                    params![n.case_id, n.seq, doc, now_ms()],
                )
                .map_err(unavailable)?;
                if let (true, Some(caps)) = (held, caps) {
                    let day = caps.day.to_string();
                    c.execute(sql::INSERT_HELD, params![n.case_id, n.seq, day, n.phone])
                        .map_err(unavailable)?;
                }
                Ok(())
            })
            .await
    }

    async fn held_on(&self, day: chrono::NaiveDate) -> Result<Vec<Held>, StoreError> {
        self.0
            .read(move |c| {
                let mut s = c.prepare_cached(sql::SELECT_HELD).map_err(unavailable)?;
                let rows = s
                    .query_map([day.to_string()], |r| {
                        Ok(Held {
                            day,
                            phone: r.get(0)?,
                            count: r.get(1)?,
                        })
                    })
                    .map_err(unavailable)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unavailable)?;
                Ok(rows)
            })
            .await
    }

    async fn summarised(&self, held: &Held) -> Result<(), StoreError> {
        let (day, phone) = (held.day.to_string(), held.phone.clone());
        self.0
            .write(move |c| {
                c.execute(sql::MARK_SUMMARISED, params![day, phone])
                    .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn sent(&self, case_id: &str) -> Result<Vec<Delivered>, StoreError> {
        let id = case_id.to_string();
        let docs: Vec<String> = self
            .0
            .read(move |c| {
                let mut s = c
                    .prepare_cached(sql::SELECT_NOTIFICATIONS)
                    .map_err(unavailable)?;
                let r = s
                    .query_map([id], |r| r.get(0))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<String>, _>>()
                    .map_err(unavailable)?;
                Ok(r)
            })
            .await?;
        docs.iter()
            .map(|d| serde_json::from_str(d).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }
}
