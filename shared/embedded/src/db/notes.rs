//! [`SqliteNotifier`]: notifications recorded once per sequence.

use super::*;

pub struct SqliteNotifier(pub Arc<Db>);

#[async_trait]
impl Notifier for SqliteNotifier {
    async fn send(&self, n: &Notification) -> Result<(), StoreError> {
        let d = Delivered {
            notification: n.clone(),
            channel: "local-record".into(),
            sent_at: Utc::now(),
        };
        let doc = serde_json::to_string(&d).expect("serialises");
        let (case_id, seq) = (n.case_id.clone(), n.seq);
        self.0
            .write(move |c| {
                c.execute(
                    sql::INSERT_NOTIFICATIONS,
                    params![case_id, seq, doc, now_ms()],
                )
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
