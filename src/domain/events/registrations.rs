//! Public registration for events: no app, no login — a name, a phone and explicit consent.

use chrono::{DateTime, Utc};
use rand::Rng;
use uuid::Uuid;

use crate::domain::common::error::Validator;
use crate::domain::events::events::Event;
use crate::domain::kinds::event_kind::{EventStatus, EventTheme};
use crate::domain::{DomainError, ErrorCode, Phone};
use crate::store::events::events as event_store;
use crate::store::events::registrations::{self as store, RegistrationRow};
use crate::store::field::partners as partner_store;
use crate::store::{DbConn, StoreError, now_utc};

/// The consent an attendee gives, recorded with its version and time on every registration.
pub const CONSENT_VERSION: &str = "2026-11";
pub const CONSENT_TEXT: &str = "我同意银行为本次活动的报名、签到及后续服务联系使用我的姓名和手机号。\
未成为客户线索的个人信息将在活动结束后按期删除，我也可随时凭票号撤回并删除。";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    Registered,
    Waitlisted,
    Cancelled,
}

impl RegistrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Registered => "registered",
            RegistrationStatus::Waitlisted => "waitlisted",
            RegistrationStatus::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "registered" => Ok(RegistrationStatus::Registered),
            "waitlisted" => Ok(RegistrationStatus::Waitlisted),
            "cancelled" => Ok(RegistrationStatus::Cancelled),
            other => Err(StoreError::Corrupt(format!("registration status `{other}`"))),
        }
    }
}

/// What an attendee sees: no staff, no owner, no other attendee.
#[derive(Debug, Clone)]
pub struct PublicEvent {
    pub title: String,
    pub theme: EventTheme,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: String,
    pub partner_name: String,
    pub spots_left: i32,
    pub registration_open: bool,
    pub registration_deadline: DateTime<Utc>,
}

fn event_by_code(conn: &mut DbConn, code: &str) -> Result<Event, DomainError> {
    let row = event_store::find_by_code(conn, code)?.ok_or(DomainError::NotFound("event"))?;
    Ok(Event::try_from(row)?)
}

fn open_now(event: &Event) -> bool {
    event.registration_open && event.status == EventStatus::Planned && Utc::now() <= event.registration_deadline
}

pub fn public_view(conn: &mut DbConn, code: &str) -> Result<PublicEvent, DomainError> {
    let event = event_by_code(conn, code)?;
    let partner_name = partner_store::find(conn, &event.partner_id.to_string())?.map(|p| p.name).unwrap_or_default();
    Ok(PublicEvent {
        registration_open: open_now(&event),
        spots_left: (event.capacity - event.registered_count).max(0),
        title: event.title,
        theme: event.theme,
        description: event.description,
        starts_at: event.starts_at,
        ends_at: event.ends_at,
        venue: event.venue,
        partner_name,
        registration_deadline: event.registration_deadline,
    })
}

#[derive(Debug, Clone)]
pub struct Ticket {
    pub ticket_code: String,
    pub status: RegistrationStatus,
    /// 1 for the first in line, when waitlisted.
    pub waitlist_position: Option<i64>,
    /// The phone had registered before: this is that registration, not a new one.
    pub existing: bool,
}

/// Ten characters from an alphabet without look-alikes: 49 bits, printed under the ticket's QR.
fn ticket_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    (0..10).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// Whether the ticket an answer carries was issued by this request or found issued before (the
/// same phone again, a second cancel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Issued {
    Now,
    Before,
}

fn ticket_of(conn: &mut DbConn, row: &RegistrationRow, issued: Issued) -> Result<Ticket, StoreError> {
    let status = RegistrationStatus::parse(&row.status)?;
    let waitlist_position = match status {
        RegistrationStatus::Waitlisted => {
            Some(store::count_waitlisted_before(conn, &row.event_id, row.registered_at)? + 1)
        }
        _ => None,
    };
    Ok(Ticket { ticket_code: row.ticket_code.clone(), status, waitlist_position, existing: issued == Issued::Before })
}

fn check_open(event: &Event) -> Result<(), DomainError> {
    if event.status != EventStatus::Planned || Utc::now() > event.registration_deadline {
        return Err(DomainError::Gone {
            code: ErrorCode::RegistrationClosed,
            detail: "registration for this event has closed".to_owned(),
        });
    }
    if !event.registration_open {
        return Err(DomainError::conflict(
            ErrorCode::RegistrationPaused,
            "the organiser has paused registration for now",
        ));
    }
    Ok(())
}

pub fn register(conn: &mut DbConn, code: &str, name: &str, phone: &str, consent: bool) -> Result<Ticket, DomainError> {
    let mut v = Validator::default();
    let name = v.check("name", crate::domain::common::text::name(name, 50));
    let phone = v.check("phone", Phone::parse(phone));
    if !consent {
        v.add("consent", "registration needs your consent to the use of your name and phone");
    }
    v.finish()?;
    let (Some(name), Some(phone)) = (name, phone) else {
        return Err(DomainError::invalid("", "invalid registration"));
    };
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let event = event_by_code(conn, code)?;
            let event_id = event.id.to_string();
            if let Some(existing) = store::find_by_phone(conn, &event_id, phone.as_str())?
                && existing.status != RegistrationStatus::Cancelled.as_str()
            {
                // The same phone again (a double tap, a second visit of the page): the same ticket.
                return Ok(ticket_of(conn, &existing, Issued::Before)?);
            }
            check_open(&event)?;
            let status = if store::take_place(conn, &event_id)? {
                RegistrationStatus::Registered
            } else {
                RegistrationStatus::Waitlisted
            };
            let now = now_utc();
            let row = RegistrationRow {
                id: Uuid::now_v7().to_string(),
                event_id: event_id.clone(),
                name: Some(name.clone()),
                phone: Some(phone.as_str().to_owned()),
                ticket_code: ticket_code(),
                status: status.as_str().to_owned(),
                consent_version: CONSENT_VERSION.to_owned(),
                consent_at: now,
                registered_at: now,
                checked_in_at: None,
                checked_in_by: None,
                erased_at: None,
                lead_id: None,
            };
            if let Some(cancelled) = store::find_by_phone(conn, &event_id, phone.as_str())? {
                // Registering again after cancelling: the old row gives way to the new one.
                crate::store::events::registrations::erase_row(conn, &cancelled.id)?;
            }
            store::insert(conn, &row)?;
            Ok(ticket_of(conn, &row, Issued::Now)?)
        })
    })
}

/// The attendee cancels with their ticket; the first waitlisted person takes the place.
pub fn cancel(conn: &mut DbConn, code: &str, ticket: &str) -> Result<Ticket, DomainError> {
    conn.write_tx(|conn| {
        let event = event_by_code(conn, code)?;
        let row = store::find_by_ticket(conn, ticket)?
            .filter(|r| r.event_id == event.id.to_string())
            .ok_or(DomainError::NotFound("ticket"))?;
        let status = RegistrationStatus::parse(&row.status)?;
        if status == RegistrationStatus::Cancelled {
            return Ok(ticket_of(conn, &row, Issued::Before)?);
        }
        if row.checked_in_at.is_some() {
            return Err(DomainError::conflict(
                ErrorCode::AlreadyCheckedIn,
                "this ticket was already used at the event",
            ));
        }
        store::set_status(conn, &row.id, RegistrationStatus::Cancelled.as_str())?;
        if status == RegistrationStatus::Registered {
            match store::first_waitlisted(conn, &row.event_id)? {
                Some(next) => store::set_status(conn, &next.id, RegistrationStatus::Registered.as_str())?,
                None => store::free_place(conn, &row.event_id)?,
            }
        }
        let cancelled = RegistrationRow { status: RegistrationStatus::Cancelled.as_str().to_owned(), ..row };
        Ok(ticket_of(conn, &cancelled, Issued::Before)?)
    })
}

/// Whether `ticket` is a live registration of the event with this public code.
pub fn ticket_belongs(conn: &mut DbConn, code: &str, ticket: &str) -> Result<bool, DomainError> {
    let event = match event_store::find_by_code(conn, code)? {
        Some(e) => e,
        None => return Ok(false),
    };
    Ok(store::find_by_ticket(conn, ticket)?.is_some_and(|r| r.event_id == event.id && r.erased_at.is_none()))
}

/// The attendee withdraws: their name and phone are erased at once. A place they held goes to
/// the first waitlisted; a lead made from this registration alone, not yet worked on, goes too.
pub fn withdraw(conn: &mut DbConn, code: &str, phone: &str, ticket: &str) -> Result<(), DomainError> {
    let phone = Phone::parse(phone).map_err(|e| DomainError::invalid("phone", e.to_string()))?;
    conn.write_tx(|conn| {
        let event = event_by_code(conn, code)?;
        // Both the ticket and the phone must match: a found ticket alone erases nobody.
        let row = store::find_by_ticket(conn, ticket.trim())?
            .filter(|r| r.event_id == event.id.to_string() && r.phone.as_deref() == Some(phone.as_str()))
            .ok_or(DomainError::NotFound("ticket"))?;
        if row.status == RegistrationStatus::Registered.as_str() && row.checked_in_at.is_none() {
            match store::first_waitlisted(conn, &row.event_id)? {
                Some(next) => store::set_status(conn, &next.id, RegistrationStatus::Registered.as_str())?,
                None => store::free_place(conn, &row.event_id)?,
            }
            store::set_status(conn, &row.id, RegistrationStatus::Cancelled.as_str())?;
        }
        store::erase(conn, &row.id, now_utc())?;
        // A check-in that is erased no longer earns points.
        crate::domain::projects::points::settle(
            conn,
            crate::domain::kinds::project_kind::PointsAction::Checkin,
            crate::domain::projects::points::Source { kind: "registration", id: &row.id },
            None,
            None,
        )?;
        if let Some(lead_id) = &row.lead_id
            && crate::store::events::leads::delete_if_untouched_from(conn, lead_id, &row.event_id, &row.id)?
        {
            crate::domain::events::leads::settle_erased(conn, lead_id)?;
        }
        Ok(())
    })
}
