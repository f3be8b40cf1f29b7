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
pub const CONSENT_VERSION: &str = "2026-12";
pub const CONSENT_TEXT: &str = "我同意活动主办方为本次活动的报名、签到及后续服务联系使用我的姓名和手机号。\
未成为客户线索的个人信息将在活动结束后按期删除；我也可随时在报名成功后的票据页面撤回同意并删除，或联系主办方办理。";

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
    /// `cancelled` is said as such on the page, not as "closed".
    pub status: EventStatus,
    pub organiser: Organiser,
    /// Days after the event ends that attendees who did not become leads are kept.
    pub retention_days: i32,
}

/// Who handles the attendee's data, as the public page names them (PIPL art. 17): the unit that
/// holds the event, with its branch, address and phone (the branch's when the unit has none).
#[derive(Debug, Clone, Default)]
pub struct Organiser {
    pub name: String,
    pub branch_name: String,
    pub address: String,
    pub contact_phone: String,
}

/// The default privacy notice: who handles the data, for what, how long, and how to withdraw.
const PRIVACY_NOTICE: &str = "个人信息处理者：{organiser}（{branch}）。\
处理目的：本次活动的报名、入场签到，以及您同意的后续金融服务联系。处理的个人信息：姓名、手机号。\
保存期限：未成为客户线索的报名信息在活动结束 {retention_days} 天后删除。\
您的权利：可随时在报名成功后的票据页面撤回同意并删除个人信息，或致电 {contact_phone} 办理；\
撤回不影响撤回前基于同意已进行的处理。";

/// The privacy notice of an event's page: the configured text, or the default, with the event's
/// organiser and retention filled in.
pub fn privacy_notice(event: &PublicEvent, configured: Option<&str>) -> String {
    let contact =
        if event.organiser.contact_phone.is_empty() { "主办网点" } else { &event.organiser.contact_phone };
    configured
        .unwrap_or(PRIVACY_NOTICE)
        .replace("{organiser}", &event.organiser.name)
        .replace("{branch}", &event.organiser.branch_name)
        .replace("{contact_phone}", contact)
        .replace("{retention_days}", &event.retention_days.to_string())
}

fn organiser(conn: &mut DbConn, event: &Event) -> Result<Organiser, StoreError> {
    use crate::store::org::org_units as units;
    let unit = units::find(conn, &event.org_unit_id.to_string())?;
    let branch = units::find(conn, &event.branch_id)?;
    let pick = |f: fn(&units::OrgUnitRow) -> &String| {
        [unit.as_ref(), branch.as_ref()]
            .into_iter()
            .flatten()
            .map(f)
            .find(|v| !v.is_empty())
            .cloned()
            .unwrap_or_default()
    };
    Ok(Organiser {
        name: unit.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        branch_name: branch.as_ref().map(|b| b.name.clone()).unwrap_or_default(),
        address: pick(|u| &u.address),
        contact_phone: pick(|u| &u.contact_phone),
    })
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
    let organiser = organiser(conn, &event)?;
    Ok(PublicEvent {
        status: event.status,
        organiser,
        retention_days: event.retention_days,
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
    /// The code under the QR that staff scan at the door: it checks in, nothing else.
    pub ticket_code: String,
    pub status: RegistrationStatus,
    /// 1 for the first in line, when waitlisted.
    pub waitlist_position: Option<i64>,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The phone had registered before: this is that registration, not a new one.
    pub existing: bool,
}

/// A registration as its answer gives it: the ticket and the secret of its ticket page, which
/// nothing else ever shows again.
#[derive(Debug, Clone)]
pub struct Registered {
    pub ticket: Ticket,
    pub secret: TicketSecret,
}

/// What opens a ticket's page and cancels or withdraws it: 144 bits, in the link the registration
/// answer gives (`/e/{code}/t/{secret}`). Only its SHA-256 is stored, so neither a staff list nor
/// a copy of the database can act for the attendee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSecret(String);

impl TicketSecret {
    const LEN: usize = 24;

    /// Derived from the request's key, so that a retry of the same submission (the answer lost
    /// on a weak signal, a double tap) gets the same ticket back, and nothing else can.
    fn derive(event_id: &str, phone: &str, request_key: &str) -> TicketSecret {
        use base64::Engine;
        use sha2::Digest;
        let digest = sha2::Sha256::new()
            .chain_update(b"outreach ticket v1\0")
            .chain_update(event_id.as_bytes())
            .chain_update(b"\0")
            .chain_update(phone.as_bytes())
            .chain_update(b"\0")
            .chain_update(request_key.as_bytes())
            .finalize();
        TicketSecret(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..18]))
    }

    /// A secret as a link or a request carries it; anything else is no ticket.
    pub fn parse(text: &str) -> Option<TicketSecret> {
        let text = text.trim();
        (text.len() == Self::LEN && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| TicketSecret(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(self.0.as_bytes()))
    }
}

/// A client's key for one submission (the form's hidden field, or `request_id` in the API):
/// 16 to 64 URL-safe characters; a random one when the client sends none.
pub fn request_key(given: Option<&str>) -> Result<String, DomainError> {
    match given.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k)
            if (16..=64).contains(&k.len())
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(k.to_owned())
        }
        Some(_) => Err(DomainError::invalid("request_id", "must be 16 to 64 letters, digits, - or _")),
        None => Ok(fresh_request_key()),
    }
}

/// 144 random bits, URL-safe: a submission's key (the form carries one in a hidden field).
pub fn fresh_request_key() -> String {
    use base64::Engine;
    let bytes: [u8; 18] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Ten characters from an alphabet without look-alikes: 49 bits, printed under the ticket's QR.
fn ticket_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    (0..10).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// Whether the ticket an answer carries was issued by this request or found issued before (the
/// same submission again, a second cancel).
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
    Ok(Ticket {
        ticket_code: row.ticket_code.clone(),
        status,
        waitlist_position,
        checked_in_at: row.checked_in_at.map(|t| t.and_utc()),
        existing: issued == Issued::Before,
    })
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

/// Registers a phone. The event's state is judged before the phone is looked at, so a closed or
/// paused event answers alike for every phone; a phone that holds a registration gets
/// `already_registered` — never its ticket — unless this is a retry of the very submission that
/// made it (the same `request_key`).
pub fn register(
    conn: &mut DbConn,
    code: &str,
    name: &str,
    phone: &str,
    consent: bool,
    request_key: &str,
) -> Result<Registered, DomainError> {
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
            check_open(&event)?;
            let event_id = event.id.to_string();
            let secret = TicketSecret::derive(&event_id, phone.as_str(), request_key);
            let previous = store::find_by_phone(conn, &event_id, phone.as_str())?;
            if let Some(existing) = &previous
                && existing.status != RegistrationStatus::Cancelled.as_str()
            {
                if existing.ticket_hash.as_deref() == Some(secret.hash().as_str()) {
                    return Ok(Registered { ticket: ticket_of(conn, existing, Issued::Before)?, secret });
                }
                return Err(DomainError::conflict(
                    ErrorCode::AlreadyRegistered,
                    "this phone has registered for this event already: its ticket page, from the link given then, \
                     holds the ticket",
                ));
            }
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
                ticket_hash: Some(secret.hash()),
            };
            if let Some(cancelled) = previous {
                // Registering again after cancelling: the old row gives way to the new one.
                store::erase_row(conn, &cancelled.id)?;
            }
            store::insert(conn, &row)?;
            Ok(Registered { ticket: ticket_of(conn, &row, Issued::Now)?, secret })
        })
    })
}

/// The live registration of the event with this public code that the secret opens.
fn by_secret(conn: &mut DbConn, code: &str, secret: &str) -> Result<(Event, RegistrationRow), DomainError> {
    let secret = TicketSecret::parse(secret).ok_or(DomainError::NotFound("ticket"))?;
    let event = event_by_code(conn, code)?;
    let row = store::find_by_ticket_hash(conn, &secret.hash())?
        .filter(|r| r.event_id == event.id.to_string() && r.erased_at.is_none())
        .ok_or(DomainError::NotFound("ticket"))?;
    Ok((event, row))
}

/// The ticket behind a ticket page.
pub fn ticket(conn: &mut DbConn, code: &str, secret: &str) -> Result<Ticket, DomainError> {
    let (_, row) = by_secret(conn, code, secret)?;
    Ok(ticket_of(conn, &row, Issued::Before)?)
}

/// The holder cancels their ticket; the first waitlisted person takes the place.
pub fn cancel(conn: &mut DbConn, code: &str, secret: &str) -> Result<Ticket, DomainError> {
    conn.write_tx(|conn| {
        let (_, row) = by_secret(conn, code, secret)?;
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

/// The holder withdraws: their name and phone are erased at once. A place they held goes to the
/// first waitlisted; a lead made from this registration alone, not yet worked on, goes too.
pub fn withdraw(conn: &mut DbConn, code: &str, secret: &str) -> Result<(), DomainError> {
    conn.write_tx(|conn| {
        let (_, row) = by_secret(conn, code, secret)?;
        erase_registration(conn, row)
    })
}

/// Erases an attendee's name and phone, keeping the row for the figures; a place they held
/// goes to the first waitlisted, and a lead made from this registration alone, not yet worked
/// on, goes too.
fn erase_registration(conn: &mut DbConn, row: RegistrationRow) -> Result<(), DomainError> {
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
}
