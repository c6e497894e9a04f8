//! [`DynamoNotifier`]: notifications recorded once per sequence.

use super::*;

pub struct DynamoNotifier {
    client: Client,
    table: String,
    usage: Arc<Usage>,
}

impl DynamoNotifier {
    fn c(&self, op: Op) -> &Client {
        self.usage.one(op);
        &self.client
    }

    pub fn new(client: Client, table: String, usage: Arc<Usage>) -> Self {
        DynamoNotifier {
            client,
            table,
            usage,
        }
    }
}

use domain::notice::phone_digest;

impl DynamoNotifier {
    fn note_item(&self, note: &Notification, channel: &str) -> Item {
        let d = Delivered {
            notification: note.clone(),
            channel: channel.into(),
            sent_at: Utc::now(),
        };
        HashMap::from([
            ("pk".to_string(), s(format!("CASE#{}", note.case_id))),
            ("sk".to_string(), s(format!("NOTE#{:06}", note.seq))),
            (
                "doc".to_string(),
                s(serde_json::to_string(&d).expect("serialises")),
            ),
        ])
    }

    /// The phone's count of the day: one item per phone and day holding the day's total,
    /// each case's count (`c_{case_id}`), the phone (for its summary) and how many were held.
    fn day_key(day: &str, digest: &str) -> Item {
        HashMap::from([
            ("pk".to_string(), s(format!("NOTECAP#{day}"))),
            ("sk".to_string(), s(format!("PHONE#{digest}"))),
        ])
    }

    /// Count one message sent: the phone's total and the case's count go up while both
    /// are below their caps.
    fn count_sent(
        &self,
        key: Item,
        note: &Notification,
        caps: DailyCaps,
    ) -> Result<TransactWriteItem, StoreError> {
        let expires = (Utc::now() + chrono::Duration::days(7)).timestamp();
        let u = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("ADD #t :one, #c :one SET expires_at = :exp")
            .condition_expression(
                "(attribute_not_exists(#t) OR #t < :pcap) AND (attribute_not_exists(#c) OR #c < :ccap)",
            )
            .expression_attribute_names("#t", "total")
            .expression_attribute_names("#c", format!("c_{}", note.case_id))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":pcap", n(i64::from(caps.per_phone)))
            .expression_attribute_values(":ccap", n(i64::from(caps.per_case)))
            .expression_attribute_values(":exp", n(expires))
            .build()
            .map_err(|e| sdk_err("update", e))?;
        Ok(TransactWriteItem::builder().update(u).build())
    }

    /// Count one message held, with the phone its summary goes to.
    fn count_held(&self, key: Item, note: &Notification) -> Result<TransactWriteItem, StoreError> {
        let expires = (Utc::now() + chrono::Duration::days(7)).timestamp();
        let u = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("ADD held :one SET phone = :p, expires_at = :exp")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":p", s(note.phone.clone()))
            .expression_attribute_values(":exp", n(expires))
            .build()
            .map_err(|e| sdk_err("update", e))?;
        Ok(TransactWriteItem::builder().update(u).build())
    }

    /// Record and count `note` in one transaction; when a cap refuses, it is recorded held
    /// and counted for the phone's summary in a second.
    async fn send_capped(&self, note: &Notification, caps: DailyCaps) -> Result<(), StoreError> {
        let day = caps.day.to_string();
        let key = Self::day_key(&day, &phone_digest(&note.phone));
        let once = Some(("attribute_not_exists(pk)", vec![]));
        let items = vec![
            tx::put(&self.table, self.note_item(note, "recorded"), once.clone())?,
            self.count_sent(key.clone(), note, caps)?,
        ];
        match transact(&self.client, &self.usage, items).await {
            Ok(()) => return Ok(()),
            // Recorded before (a redelivery): nothing more to do.
            Err(TxError::Conditions(c)) if c.first() == Some(&true) => return Ok(()),
            Err(TxError::Conditions(_)) => {}
            Err(TxError::Store(e)) => return Err(e),
        }
        let items = vec![
            tx::put(&self.table, self.note_item(note, ports::HELD), once)?,
            self.count_held(key, note)?,
        ];
        match transact(&self.client, &self.usage, items).await {
            Ok(()) => Ok(()),
            Err(TxError::Conditions(_)) => Ok(()),
            Err(TxError::Store(e)) => Err(e),
        }
    }
}

#[async_trait]
impl Notifier for DynamoNotifier {
    async fn send(&self, note: &Notification, caps: Option<DailyCaps>) -> Result<(), StoreError> {
        if let Some(caps) = caps {
            return self.send_capped(note, caps).await;
        }
        let item = self.note_item(note, "recorded");
        bill_write(&self.usage, &item);
        let r = self
            .c(Op::DdbPutItem)
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_err("record notification", e)),
        }
    }

    async fn held_on(&self, day: chrono::NaiveDate) -> Result<Vec<Held>, StoreError> {
        let mut out = vec![];
        let mut start = None;
        loop {
            let r = self
                .c(Op::DdbQuery)
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :p")
                .filter_expression("held > :zero AND attribute_not_exists(summarised)")
                .expression_attribute_values(":p", s(format!("NOTECAP#{day}")))
                .expression_attribute_values(":zero", n(0))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_err("list held messages", e))?;
            bill_read(&self.usage, r.items(), false);
            for i in r.items() {
                let phone = i.get("phone").and_then(|v| v.as_s().ok());
                let held = i.get("held").and_then(|v| v.as_n().ok());
                if let (Some(phone), Some(held)) = (phone, held) {
                    out.push(Held {
                        day,
                        phone: phone.clone(),
                        count: held.parse().unwrap_or(0),
                    });
                }
            }
            start = r.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn summarised(&self, held: &Held) -> Result<(), StoreError> {
        let key = Self::day_key(&held.day.to_string(), &phone_digest(&held.phone));
        self.c(Op::DdbUpdateItem)
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("SET summarised = :t")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| sdk_err("mark summarised", e))?;
        Ok(())
    }

    async fn sent(&self, case_id: &str) -> Result<Vec<Delivered>, StoreError> {
        let r = self
            .c(Op::DdbQuery)
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND begins_with(sk, :n)")
            .expression_attribute_values(":p", s(format!("CASE#{case_id}")))
            .expression_attribute_values(":n", s("NOTE#"))
            // Read after the notifier's own writes (which sequence numbers went out).
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("list notifications", e))?;
        bill_read(&self.usage, r.items(), true);
        r.items()
            .iter()
            .filter_map(|i| i.get("doc").and_then(|v| v.as_s().ok()))
            .map(|d| serde_json::from_str(d).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }
}
