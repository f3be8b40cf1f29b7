//! Check-in at the door: staff scan a ticket (online or, later, from an offline batch); a
//! checked-in attendee becomes a lead of the event's owner, or is linked to the lead that exists.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use uuid::Uuid;

use crate::domain::common::phone_privacy::{Contact, PhoneHolder};
use crate::domain::events::events::{self, Event};
use crate::domain::kinds::project_kind::PointsAction;
use crate::domain::projects::points::{self, Credit, Source};
use crate::domain::{Actor, DomainError, ErrorCode};
use crate::store::events::leads as lead_store;
use crate::store::events::registrations::{self as store, RegistrationRow};
use crate::store::{DbConn, StoreError, now_utc, uuid_col};

#[derive(Debug, Clone)]
pub struct CheckIn {
    pub ticket_code: String,
    /// A second scan of the same ticket: nothing changed, this is the first check-in.
    pub already_checked_in: bool,
    pub checked_in_at: DateTime<Utc>,
    pub name: Option<String>,
    /// Stored in full; render it through `phone_holder`.
    pub phone: Option<String>,
    pub lead_id: Option<Uuid>,
    /// In the care of the event's owner; a lead who asked not to be contacted is shown in full
    /// to managers only.
    pub phone_holder: PhoneHolder,
}

/// What a scan found: an attendee it checked in, or one checked in already (by an earlier scan,
/// or by another phone a moment before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    CheckedIn,
    AlreadyIn,
}

fn result(
    conn: &mut DbConn,
    actor: &Actor,
    row: &RegistrationRow,
    scan: Scan,
    event: &Event,
) -> Result<CheckIn, StoreError> {
    let readable = crate::domain::events::leads::readable_ids(conn, actor, row.lead_id.as_slice())?;
    let do_not_contact = match &row.phone {
        Some(phone) => {
            !lead_store::do_not_contact_phones(conn, &event.branch_id, std::slice::from_ref(phone))?.is_empty()
        }
        None => false,
    };
    Ok(CheckIn {
        phone_holder: PhoneHolder::in_care_of(event.owner_id)
            .with_contact(Contact::from_do_not_contact(do_not_contact)),
        ticket_code: row.ticket_code.clone(),
        already_checked_in: scan == Scan::AlreadyIn,
        checked_in_at: row.checked_in_at.map(|t| t.and_utc()).unwrap_or_else(Utc::now),
        name: row.name.clone(),
        phone: row.phone.clone(),
        lead_id: row.lead_id.as_deref().filter(|l| readable.contains(*l)).map(uuid_col).transpose()?,
    })
}

/// When the door is open: two hours before the event starts (people come early) to four hours
/// after it ends (a phone that scanned offline may sync on the way back). A scan outside it is
/// not an attendance, and earns nothing.
pub fn checkin_window(event: &Event) -> (DateTime<Utc>, DateTime<Utc>) {
    (event.starts_at - Duration::hours(2), event.ends_at + Duration::hours(4))
}

pub fn check_in(
    conn: &mut DbConn,
    actor: &Actor,
    event_id: Uuid,
    ticket: &str,
    scanned_at: Option<DateTime<Utc>>,
) -> Result<CheckIn, DomainError> {
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let event = events::get(conn, actor, event_id)?;
            let row = store::find_by_ticket(conn, ticket.trim())?
                .filter(|r| r.event_id == event_id.to_string())
                .ok_or(DomainError::NotFound("ticket"))?;
            if row.checked_in_at.is_some() {
                return Ok(result(conn, actor, &row, Scan::AlreadyIn, &event)?);
            }
            match row.status.as_str() {
                "waitlisted" => {
                    return Err(DomainError::conflict(
                        ErrorCode::Waitlisted,
                        "this ticket is on the waitlist, not registered",
                    ));
                }
                "cancelled" => {
                    return Err(DomainError::conflict(
                        ErrorCode::RegistrationCancelled,
                        "this registration was cancelled",
                    ));
                }
                _ => {}
            }
            let (Some(name), Some(phone)) = (row.name.clone(), row.phone.clone()) else {
                return Err(DomainError::Gone {
                    code: ErrorCode::AttendeeErased,
                    detail: "the attendee withdrew their data".to_owned(),
                });
            };
            // Microseconds: what both databases keep, so the answer equals what a re-read gives.
            let now = now_utc().and_utc();
            let at = match scanned_at.map(|t| t.trunc_subsecs(6)) {
                // A scan from an offline phone keeps its time.
                Some(t) if t <= now + Duration::minutes(5) => t,
                Some(_) => return Err(DomainError::invalid("scanned_at", "must not be in the future")),
                None => now,
            };
            let (opens, closes) = checkin_window(&event);
            if at < opens || at > closes {
                return Err(DomainError::conflict(
                    ErrorCode::OutsideCheckinWindow,
                    format!("check-in is open from {} to {}", opens.to_rfc3339(), closes.to_rfc3339()),
                ));
            }
            let lead_id = crate::domain::events::leads::from_checkin(conn, &event, &name, &phone)?;
            if !store::check_in(conn, &row.id, at.naive_utc(), &actor.user_id.to_string(), &lead_id)? {
                let fresh = store::find_by_ticket(conn, ticket.trim())?.ok_or(DomainError::NotFound("ticket"))?;
                return Ok(result(conn, actor, &fresh, Scan::AlreadyIn, &event)?);
            }
            let credit =
                event.project_id.map(|project_id| Credit { project_id, user_id: event.owner_id, occurred_at: at });
            points::settle(conn, PointsAction::Checkin, Source { kind: "registration", id: &row.id }, None, credit)?;
            let checked = RegistrationRow { checked_in_at: Some(at.naive_utc()), lead_id: Some(lead_id), ..row };
            Ok(result(conn, actor, &checked, Scan::CheckedIn, &event)?)
        })
    })
}

#[derive(Debug, Clone)]
pub struct Attendee {
    pub id: Uuid,
    pub event_id: Uuid,
    pub name: Option<String>,
    /// As the caller may read it (see `phone_privacy`); absent once erased.
    pub phone: Option<String>,
    pub status: String,
    pub ticket_code: String,
    pub registered_at: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub lead_id: Option<Uuid>,
    /// Whether `phone` is shown to this caller in full.
    pub phone_in_full: bool,
}

pub fn attendees(conn: &mut DbConn, actor: &Actor, event_id: Uuid) -> Result<(Event, Vec<Attendee>), DomainError> {
    let event = events::get(conn, actor, event_id)?;
    let rows = store::of_event(conn, &event_id.to_string())?;
    let list = as_read_by(conn, actor, &event.branch_id, event.owner_id, rows)?;
    Ok((event, list))
}

/// The attendees of the caller's scope's live events registered, changed or checked in in
/// `(after, upto]` of the change feed (the phones' offline check-in list).
pub fn attendees_changed(conn: &mut DbConn, actor: &Actor, after: i64, upto: i64) -> Result<Vec<Attendee>, StoreError> {
    let rows = store::changed_since(conn, actor.scope().path_prefix().as_deref(), after, upto)?;
    // Grouped by event: the phones' privacy is decided per event owner and branch.
    let mut by_event: std::collections::BTreeMap<(String, String), Vec<RegistrationRow>> = Default::default();
    for (row, owner, branch) in rows {
        by_event.entry((owner, branch)).or_default().push(row);
    }
    let mut list = Vec::new();
    for ((owner, branch), rows) in by_event {
        list.extend(as_read_by(conn, actor, &branch, uuid_col(&owner)?, rows)?);
    }
    Ok(list)
}

/// One attendee of an event the caller may read.
pub fn attendee(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Attendee, DomainError> {
    let row = store::find(conn, &id.to_string())?.ok_or(DomainError::NotFound("attendee"))?;
    let event = events::get(conn, actor, uuid_col(&row.event_id)?).map_err(|e| match e {
        DomainError::NotFound(_) => DomainError::NotFound("attendee"),
        other => other,
    })?;
    let mut list = as_read_by(conn, actor, &event.branch_id, event.owner_id, vec![row])?;
    list.pop().ok_or(DomainError::NotFound("attendee"))
}

/// Registrations of one owner's events as the caller may read them: attendees are in the care
/// of the event's owner, and those who asked (as leads) not to be contacted only managers read
/// in full.
fn as_read_by(
    conn: &mut DbConn,
    actor: &Actor,
    branch_id: &str,
    owner_id: Uuid,
    rows: Vec<RegistrationRow>,
) -> Result<Vec<Attendee>, StoreError> {
    let carer = PhoneHolder::in_care_of(owner_id);
    let phones: Vec<String> = rows.iter().filter_map(|r| r.phone.clone()).collect();
    let withheld = if carer.with_contact(Contact::DoNotContact).shown_in_full_to(actor) {
        Vec::new() // an opt-out changes nothing for this caller: no need to look them up
    } else {
        lead_store::do_not_contact_phones(conn, branch_id, &phones)?
    };
    let leads: Vec<String> = rows.iter().filter_map(|r| r.lead_id.clone()).collect();
    let readable = crate::domain::events::leads::readable_ids(conn, actor, &leads)?;
    rows.into_iter()
        .map(|r| -> Result<Attendee, StoreError> {
            let opted_out = r.phone.as_ref().is_some_and(|p| withheld.contains(p));
            let holder = carer.with_contact(Contact::from_do_not_contact(opted_out));
            let phone_in_full = r.phone.is_some() && holder.shown_in_full_to(actor);
            Ok(Attendee {
                phone_in_full,
                id: uuid_col(&r.id)?,
                event_id: uuid_col(&r.event_id)?,
                lead_id: r.lead_id.as_deref().filter(|l| readable.contains(*l)).map(uuid_col).transpose()?,
                name: r.name,
                phone: r.phone.map(|p| holder.show(actor, p)),
                status: r.status,
                ticket_code: r.ticket_code,
                registered_at: r.registered_at.and_utc(),
                checked_in_at: r.checked_in_at.map(|t| t.and_utc()),
            })
        })
        .collect()
}

/// Reading personal data in bulk is audited like an export (PIPL): an attendee list that shows
/// the caller full phones of people in another's care (a manager reading a team member's
/// event) leaves an entry with how many it showed. The event's owner reading their own does not.
pub fn record_bulk_read(conn: &mut DbConn, actor: &Actor, event: &Event, list: &[Attendee]) -> Result<(), StoreError> {
    if actor.user_id == event.owner_id {
        return Ok(());
    }
    let full = list.iter().filter(|a| a.phone_in_full).count();
    if full == 0 {
        return Ok(());
    }
    crate::domain::org::audit::record(
        conn,
        actor,
        "event",
        event.id,
        &event.org_path,
        crate::domain::org::audit::Action::Read,
        serde_json::json!({"read": "attendees", "rows": list.len(), "full_phones": full}),
    )
}

/// Records that the attendee list of an event was exported, by whom and in which format.
pub fn record_export(
    conn: &mut DbConn,
    actor: &Actor,
    event: &Event,
    format: &str,
    rows: usize,
) -> Result<(), StoreError> {
    crate::domain::org::audit::record(
        conn,
        actor,
        "event",
        event.id,
        &event.org_path,
        crate::domain::org::audit::Action::Export,
        serde_json::json!({"export": "attendees", "format": format, "rows": rows}),
    )
}
