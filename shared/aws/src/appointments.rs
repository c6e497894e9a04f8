//! Appointments on DynamoDB. A booking is one transaction of three items: the slot's
//! counter (`SLOT#{site}#{start}`, `booked` added only while below the capacity), the
//! guardian's hold for the purpose (`APPTHOLD#{digest}#{purpose}`, only if none), and the
//! appointment itself (`APPT#{id}`: gsi1 by the guardian's digest, gsi5 by site and day
//! with the document projected, so a site's day is one query).

use crate::dynamo::{bill_read, hex_sha256, n, put, s, transact, Item, TxError};
use crate::usage::{Op, Usage};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use domain::appointment::{Appointment, AppointmentStatus};
use ports::{AppointmentStore, Booking, StoreError};
use std::collections::HashMap;
use std::sync::Arc;

pub struct DynamoAppointments {
    client: Client,
    table: String,
    usage: Arc<Usage>,
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn appt_key(id: &str) -> Item {
    key(format!("APPT#{id}"), "APPT")
}

fn slot_key(a: &Appointment) -> Item {
    key(format!("SLOT#{}", a.slot_key()), "SLOT")
}

fn hold_key(a: &Appointment) -> Item {
    key(
        format!(
            "APPTHOLD#{}#{}",
            hex_sha256(&a.guardian),
            a.purpose.as_str()
        ),
        "HOLD",
    )
}

fn day(a: &Appointment) -> String {
    a.start
        .with_timezone(&domain::calendar::shanghai())
        .format("%Y%m%d")
        .to_string()
}

fn item(a: &Appointment) -> Item {
    let doc = serde_json::to_string(a).expect("serialises");
    let mut i = appt_key(&a.appointment_id);
    i.insert(
        "gsi1pk".into(),
        s(format!("APPTS#{}", hex_sha256(&a.guardian))),
    );
    i.insert("gsi1sk".into(), n(a.start.timestamp_millis()));
    i.insert(
        "gsi5pk".into(),
        s(format!("SITEDAY#{}#{}", a.site_id, day(a))),
    );
    i.insert(
        "gsi5sk".into(),
        s(format!(
            "{:013}#{}",
            a.start.timestamp_millis(),
            a.appointment_id
        )),
    );
    i.insert("entry".into(), s(doc));
    i
}

fn parse(i: &Item) -> Result<Appointment, StoreError> {
    let doc = i
        .get("entry")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Corrupt("appointment without entry".into()))?;
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("appointment: {e}")))
}

fn err(what: &str, e: impl std::fmt::Debug) -> StoreError {
    crate::sdk_err(what, e)
}

impl DynamoAppointments {
    pub fn new(client: Client, table: String, usage: Arc<Usage>) -> Self {
        DynamoAppointments {
            client,
            table,
            usage,
        }
    }

    fn c(&self, op: Op) -> &Client {
        self.usage.one(op);
        &self.client
    }

    async fn get_item(&self, k: Item) -> Result<Option<Item>, StoreError> {
        let r = self
            .c(Op::DdbGetItem)
            .get_item()
            .table_name(&self.table)
            .set_key(Some(k))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("get appointment", e))?;
        bill_read(&self.usage, r.item().as_slice(), true);
        Ok(r.item().cloned())
    }

    async fn query(&self, index: &str, pk: String) -> Result<Vec<Item>, StoreError> {
        let mut out = vec![];
        let mut start = None;
        loop {
            let r = self
                .c(Op::DdbQuery)
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", format!("{index}pk"))
                .expression_attribute_values(":p", s(pk.clone()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| err("query appointments", e))?;
            bill_read(&self.usage, r.items(), false);
            out.extend(r.items().iter().cloned());
            start = r.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}

#[async_trait]
impl AppointmentStore for DynamoAppointments {
    async fn book(&self, a: &Appointment, capacity: u32) -> Result<Booking, StoreError> {
        let slot = Update::builder()
            .table_name(&self.table)
            .set_key(Some(slot_key(a)))
            .update_expression("ADD booked :one")
            .condition_expression("attribute_not_exists(booked) OR booked < :cap")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cap", n(capacity))
            .build()
            .map_err(|e| err("update", e))?;
        let mut hold = hold_key(a);
        hold.insert("appointment_id".into(), s(a.appointment_id.clone()));
        let items = vec![
            TransactWriteItem::builder().update(slot).build(),
            put(
                &self.table,
                hold,
                Some(("attribute_not_exists(pk)", vec![])),
            )?,
            put(
                &self.table,
                item(a),
                Some(("attribute_not_exists(pk)", vec![])),
            )?,
        ];
        match transact(&self.client, &self.usage, items).await {
            Ok(()) => Ok(Booking::Booked),
            Err(TxError::Conditions(c)) if c.get(1) == Some(&true) => {
                let held = self
                    .get_item(hold_key(a))
                    .await?
                    .and_then(|i| i.get("appointment_id").and_then(|v| v.as_s().ok()).cloned());
                match held {
                    Some(id) => match self.appointment(&id).await? {
                        Some(existing) => Ok(Booking::AlreadyBooked(Box::new(existing))),
                        None => Err(StoreError::Unavailable(
                            "appointment hold without appointment".into(),
                        )),
                    },
                    None => Err(StoreError::Unavailable("appointment hold changed".into())),
                }
            }
            Err(TxError::Conditions(c)) if c.first() == Some(&true) => Ok(Booking::SlotFull),
            Err(TxError::Conditions(_)) => Err(StoreError::Conflict("appointment id taken".into())),
            Err(TxError::Store(e)) => Err(e),
        }
    }

    async fn cancel(
        &self,
        appointment_id: &str,
        at: domain::case::Time,
    ) -> Result<Option<Appointment>, StoreError> {
        for _ in 0..3 {
            let Some(mut a) = self.appointment(appointment_id).await? else {
                return Ok(None);
            };
            if !a.is_active() {
                return Ok(Some(a));
            }
            let read = serde_json::to_string(&a).expect("serialises");
            a.status = AppointmentStatus::Cancelled;
            a.cancelled_at = Some(at);
            let slot = Update::builder()
                .table_name(&self.table)
                .set_key(Some(slot_key(&a)))
                .update_expression("ADD booked :minus")
                .condition_expression("booked > :zero")
                .expression_attribute_values(":minus", n(-1))
                .expression_attribute_values(":zero", n(0))
                .build()
                .map_err(|e| err("update", e))?;
            let hold = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(hold_key(&a)))
                .condition_expression("appointment_id = :me")
                .expression_attribute_values(":me", s(a.appointment_id.clone()))
                .build()
                .map_err(|e| err("delete", e))?;
            // Only the active appointment as read is cancelled (its document unchanged).
            let items = vec![
                put(
                    &self.table,
                    item(&a),
                    Some(("entry = :read", vec![(":read", s(read.clone()))])),
                )?,
                TransactWriteItem::builder().update(slot).build(),
                TransactWriteItem::builder().delete(hold).build(),
            ];
            match transact(&self.client, &self.usage, items).await {
                Ok(()) => return Ok(Some(a)),
                Err(TxError::Conditions(_)) => continue,
                Err(TxError::Store(e)) => return Err(e),
            }
        }
        Err(StoreError::Unavailable(
            "the appointment kept changing".into(),
        ))
    }

    async fn appointment(&self, appointment_id: &str) -> Result<Option<Appointment>, StoreError> {
        self.get_item(appt_key(appointment_id))
            .await?
            .as_ref()
            .map(parse)
            .transpose()
    }

    async fn of_guardian(&self, guardian: &str) -> Result<Vec<Appointment>, StoreError> {
        let keys = self
            .query("gsi1", format!("APPTS#{}", hex_sha256(guardian)))
            .await?;
        let mut out = vec![];
        for k in keys {
            let id = k
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .and_then(|p| p.strip_prefix("APPT#"))
                .unwrap_or_default()
                .to_string();
            if let Some(a) = self.appointment(&id).await? {
                out.push(a);
            }
        }
        out.sort_by_key(|a| a.start);
        Ok(out)
    }

    async fn at_site(
        &self,
        site_id: &str,
        day: chrono::NaiveDate,
    ) -> Result<Vec<Appointment>, StoreError> {
        let items = self
            .query(
                "gsi5",
                format!("SITEDAY#{site_id}#{}", day.format("%Y%m%d")),
            )
            .await?;
        let mut out: Vec<Appointment> = items.iter().map(parse).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| (a.start, &a.appointment_id).cmp(&(b.start, &b.appointment_id)));
        Ok(out)
    }

    async fn mark_reminded(&self, appointment_id: &str) -> Result<(), StoreError> {
        let Some(mut a) = self.appointment(appointment_id).await? else {
            return Ok(());
        };
        if a.reminded {
            return Ok(());
        }
        let read = serde_json::to_string(&a).expect("serialises");
        a.reminded = true;
        // Conditional on the document read: a cancellation in between wins.
        let r = self
            .c(Op::DdbPutItem)
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(&a)))
            .condition_expression("entry = :read")
            .expression_attribute_values(":read", s(read))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .and_then(|x| aws_sdk_dynamodb::error::ProvideErrorMetadata::code(x))
                    == Some("ConditionalCheckFailedException") =>
            {
                Ok(())
            }
            Err(e) => Err(err("mark reminded", e)),
        }
    }
}
