//! The hospitals' delivery records on the table: one item per record (`BIRTH#<id>`) and
//! one per birth's slot (`BIRTH#SLOT#<digest>`), both under `BIRTH#`, which only the API
//! writes.

use super::*;
use ports::BirthRecords;

/// The key of a birth's slot (one record per birth): under `BIRTH#`, which only the API
/// writes.
fn birth_slot_key(record: &domain::sharing::BirthRecord) -> Item {
    HashMap::from([
        ("pk".to_string(), s(format!("BIRTH#SLOT#{}", record.slot()))),
        ("sk".to_string(), s("SLOT")),
    ])
}

#[async_trait]
impl BirthRecords for DynamoStore {
    async fn record_birth(
        &self,
        record: &domain::sharing::BirthRecord,
    ) -> Result<(String, bool), StoreError> {
        let id = record.id();
        let doc = serde_json::to_string(record).expect("serialises");
        // The record and its birth's slot in one transaction: one record per birth,
        // whichever institution files it (a retry of the same record finds both).
        let slot_key = birth_slot_key(record);
        let mut slot = slot_key.clone();
        slot.insert("birth_id".into(), s(id.clone()));
        let item = HashMap::from([
            ("pk".to_string(), s(format!("BIRTH#{id}"))),
            ("sk".to_string(), s("BIRTH")),
            ("doc".to_string(), s(doc.clone())),
        ]);
        let items = vec![
            put(
                &self.table,
                item,
                Some(("attribute_not_exists(pk)", vec![])),
            )?,
            put(
                &self.table,
                slot,
                Some((
                    "attribute_not_exists(pk) OR birth_id = :me",
                    vec![(":me", s(id.clone()))],
                )),
            )?,
        ];
        match transact(&self.client, &self.usage, items).await {
            Ok(()) => Ok((id, true)),
            Err(TxError::Conditions(c)) if c.get(1) == Some(&true) => {
                let r = self
                    .c(Op::DdbGetItem)
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(slot_key))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| sdk_err("get birth slot", e))?;
                let holder = r
                    .item()
                    .and_then(|i| i.get("birth_id"))
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                Err(StoreError::Taken { holder })
            }
            Err(TxError::Conditions(_)) => match self.birth(&record.key()).await? {
                Some(existing) if &existing == record => Ok((id, false)),
                _ => Err(StoreError::Conflict(
                    "a different record of this birth exists".into(),
                )),
            },
            Err(TxError::Store(e)) => Err(e),
        }
    }
    async fn replace_birth(
        &self,
        record: &domain::sharing::BirthRecord,
    ) -> Result<bool, StoreError> {
        let id = record.id();
        let doc = serde_json::to_string(record).expect("serialises");
        self.usage
            .add(Op::DdbWriteUnits, billing::write_units(doc.len() + 40));
        let r = self
            .c(Op::DdbPutItem)
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("BIRTH#{id}")))
            .item("sk", s("BIRTH"))
            .item("doc", s(doc))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_err("replace birth", e)),
        }
    }
    async fn birth_by_id(
        &self,
        birth_id: &str,
    ) -> Result<Option<domain::sharing::BirthRecord>, StoreError> {
        let r = self
            .c(Op::DdbGetItem)
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("BIRTH#{birth_id}")))
            .key("sk", s("BIRTH"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_err("get birth", e))?;
        bill_read(&self.usage, r.item().as_slice(), true);
        r.item()
            .and_then(|i| i.get("doc"))
            .and_then(|v| v.as_s().ok())
            .map(|d| serde_json::from_str(d).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }
    async fn newborn_holder(&self, claim: &str) -> Result<Option<String>, StoreError> {
        self.claim_holder(HashMap::from([
            ("pk".into(), s(format!("NEWBORN#{claim}"))),
            ("sk".into(), s("NEWBORN")),
        ]))
        .await
    }
    async fn birth(&self, key: &str) -> Result<Option<domain::sharing::BirthRecord>, StoreError> {
        self.birth_by_id(&domain::sharing::birth_id(key)).await
    }
}
