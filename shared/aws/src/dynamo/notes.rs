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

#[async_trait]
impl Notifier for DynamoNotifier {
    async fn send(&self, note: &Notification) -> Result<(), StoreError> {
        let d = Delivered {
            notification: note.clone(),
            channel: "recorded".into(),
            sent_at: Utc::now(),
        };
        let item = HashMap::from([
            ("pk".to_string(), s(format!("CASE#{}", note.case_id))),
            ("sk".to_string(), s(format!("NOTE#{:06}", note.seq))),
            (
                "doc".to_string(),
                s(serde_json::to_string(&d).expect("serialises")),
            ),
        ]);
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
