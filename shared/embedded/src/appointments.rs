//! Appointments in SQLite: a booking counts its slot's active rows and checks the
//! guardian's active one for the purpose inside the single writer's transaction, so a
//! slot is never overbooked (a unique partial index backs the one-per-purpose rule).

use crate::db::{unavailable, Db};
use async_trait::async_trait;
use domain::appointment::{Appointment, AppointmentStatus};
use ports::{AppointmentStore, Booking, StoreError};
use rusqlite::{params, OptionalExtension};
use std::sync::Arc;

pub struct SqliteAppointments(pub Arc<Db>);

fn digest(guardian: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(guardian.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn day_of(a: &Appointment) -> String {
    a.start
        .with_timezone(&domain::calendar::shanghai())
        .format("%Y-%m-%d")
        .to_string()
}

fn parse(doc: &str) -> Result<Appointment, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("appointment: {e}")))
}

/// The appointment stored under this id (within a read or a write).
fn stored(c: &rusqlite::Connection, id: &str) -> Result<Option<Appointment>, StoreError> {
    let doc: Option<String> = c
        .query_row(
            "SELECT doc FROM appointments WHERE appointment_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()
        .map_err(unavailable)?;
    doc.map(|d| parse(&d)).transpose()
}

fn docs(rows: Vec<String>) -> Result<Vec<Appointment>, StoreError> {
    rows.iter().map(|d| parse(d)).collect()
}

#[async_trait]
impl AppointmentStore for SqliteAppointments {
    async fn book(&self, a: &Appointment, capacity: u32) -> Result<Booking, StoreError> {
        let a = a.clone();
        self.0
            .write(move |c| {
                let guardian = digest(&a.guardian);
                let held: Option<String> = c
                    .query_row(
                        "SELECT doc FROM appointments WHERE guardian = ?1 AND purpose = ?2 \
                         AND active = 1",
                        params![guardian, a.purpose.as_str()],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(unavailable)?;
                if let Some(doc) = held {
                    return Ok(Booking::AlreadyBooked(Box::new(parse(&doc)?)));
                }
                let booked: i64 = c
                    .query_row(
                        "SELECT COUNT(*) FROM appointments WHERE site_id = ?1 AND start = ?2 \
                         AND active = 1",
                        params![a.site_id, a.start.timestamp()],
                        |r| r.get(0),
                    )
                    .map_err(unavailable)?;
                if booked >= capacity as i64 {
                    return Ok(Booking::SlotFull);
                }
                c.execute(
                    "INSERT INTO appointments (appointment_id, guardian, purpose, site_id, start, \
                     day, active, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
                    params![
                        a.appointment_id,
                        guardian,
                        a.purpose.as_str(),
                        a.site_id,
                        a.start.timestamp(),
                        day_of(&a),
                        serde_json::to_string(&a).expect("serialises"),
                    ],
                )
                .map_err(unavailable)?;
                Ok(Booking::Booked)
            })
            .await
    }

    async fn cancel(
        &self,
        appointment_id: &str,
        at: domain::case::Time,
    ) -> Result<Option<Appointment>, StoreError> {
        let id = appointment_id.to_string();
        self.0
            .write(move |c| {
                let Some(mut a) = stored(c, &id)? else {
                    return Ok(None);
                };
                if a.is_active() {
                    a.status = AppointmentStatus::Cancelled;
                    a.cancelled_at = Some(at);
                    c.execute(
                        "UPDATE appointments SET active = 0, doc = ?2 WHERE appointment_id = ?1",
                        params![id, serde_json::to_string(&a).expect("serialises")],
                    )
                    .map_err(unavailable)?;
                }
                Ok(Some(a))
            })
            .await
    }

    async fn appointment(&self, appointment_id: &str) -> Result<Option<Appointment>, StoreError> {
        let id = appointment_id.to_string();
        self.0.read(move |c| stored(c, &id)).await
    }

    async fn of_guardian(&self, guardian: &str) -> Result<Vec<Appointment>, StoreError> {
        let g = digest(guardian);
        let rows = self
            .0
            .read(move |c| {
                let mut s = c
                    .prepare_cached(
                        "SELECT doc FROM appointments WHERE guardian = ?1 ORDER BY start",
                    )
                    .map_err(unavailable)?;
                let r = s
                    .query_map([g], |r| r.get(0))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<String>, _>>()
                    .map_err(unavailable)?;
                Ok(r)
            })
            .await?;
        docs(rows)
    }

    async fn at_site(
        &self,
        site_id: &str,
        day: chrono::NaiveDate,
    ) -> Result<Vec<Appointment>, StoreError> {
        let (site, day) = (site_id.to_string(), day.format("%Y-%m-%d").to_string());
        let rows = self
            .0
            .read(move |c| {
                let mut s = c
                    .prepare_cached(
                        "SELECT doc FROM appointments WHERE site_id = ?1 AND day = ?2 \
                         ORDER BY start, appointment_id",
                    )
                    .map_err(unavailable)?;
                let r = s
                    .query_map(params![site, day], |r| r.get(0))
                    .map_err(unavailable)?
                    .collect::<Result<Vec<String>, _>>()
                    .map_err(unavailable)?;
                Ok(r)
            })
            .await?;
        docs(rows)
    }

    async fn mark_reminded(&self, appointment_id: &str) -> Result<(), StoreError> {
        let id = appointment_id.to_string();
        self.0
            .write(move |c| {
                if let Some(mut a) = stored(c, &id)? {
                    if !a.reminded {
                        a.reminded = true;
                        c.execute(
                            "UPDATE appointments SET doc = ?2 WHERE appointment_id = ?1",
                            params![id, serde_json::to_string(&a).expect("serialises")],
                        )
                        .map_err(unavailable)?;
                    }
                }
                Ok(())
            })
            .await
    }
}
