//! Every machine code a problem document can carry, in one closed list.
//!
//! Clients branch on `code`, never on `detail`, so a code is part of the contract: it is declared
//! here once, rendered into the OpenAPI document (the `ErrorCode` schema, referenced by
//! `Problem.code`), and a typo in a handler is a compile error rather than a new, undocumented
//! code. The HTTP status a code travels with is decided where the error is mapped
//! (`http::common::problem`), since the same domain refusal may be a 403 or a 409 by its kind.

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])+ $variant:ident => $text:literal, )+) => {
        /// A stable, machine-readable error code (`Problem.code`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode { $( $(#[doc = $doc])+ $variant, )+ }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $text),+ }
            }

            /// What the code means, as its documentation says it.
            pub fn meaning(self) -> String {
                match self { $(ErrorCode::$variant => [$($doc.trim()),+].join(" ")),+ }
            }
        }
    };
}

error_codes! {
    // The request itself.
    /// One or more fields are invalid; `errors` maps each to what is wrong.
    ValidationFailed => "validation_failed",
    /// The body is not JSON.
    MalformedJson => "malformed_json",
    /// The body is JSON but does not fit the operation's schema.
    InvalidBody => "invalid_body",
    /// A query parameter is missing, malformed or unknown.
    InvalidQuery => "invalid_query",
    /// A non-JSON body could not be read.
    BadPayload => "bad_payload",
    /// A multipart body could not be read.
    BadMultipart => "bad_multipart",
    /// The body is larger than the operation accepts.
    PayloadTooLarge => "payload_too_large",
    /// The content type is not one the operation accepts.
    UnsupportedMediaType => "unsupported_media_type",
    /// The body did not arrive in time.
    RequestTimeout => "request_timeout",
    /// The image is larger than allowed.
    ImageTooLarge => "image_too_large",
    /// The bytes are not a readable JPEG, PNG or WebP image.
    ImageUnreadable => "image_unreadable",
    /// The origin of a cross-origin request is not allowed.
    CorsNotAllowed => "cors_not_allowed",

    // Who is asking.
    /// No bearer token was sent.
    MissingToken => "missing_token",
    /// The access token is forged, malformed or revoked.
    InvalidToken => "invalid_token",
    /// The access token has expired; refresh it.
    TokenExpired => "token_expired",
    /// Phone or password is wrong.
    InvalidCredentials => "invalid_credentials",
    /// The refresh token is unknown, expired, spent or revoked.
    InvalidRefreshToken => "invalid_refresh_token",
    /// The current password given to change it is wrong.
    WrongCurrentPassword => "wrong_current_password",
    /// Too many attempts; wait for `Retry-After` seconds.
    RateLimited => "rate_limited",
    /// The caller's role may not do this.
    RoleNotAllowed => "role_not_allowed",
    /// Only the record's owner (or their managers) may do this.
    NotOwner => "not_owner",
    /// A user may not grant a role above their own.
    RoleEscalation => "role_escalation",
    /// The caller may not assign the record to that user or org unit.
    CannotAssign => "cannot_assign",
    /// A user may not change their own role, org unit or activity.
    SelfChangeForbidden => "self_change_forbidden",

    // The record.
    /// Absent, or outside the caller's scope: the two are indistinguishable on purpose.
    NotFound => "not_found",
    /// The record changed since the version the caller sent; fetch it and retry.
    VersionConflict => "version_conflict",
    /// A create reused an id that already names a different record.
    IdConflict => "id_conflict",
    /// The move is not allowed from the record's current status.
    InvalidTransition => "invalid_transition",
    /// A sync cursor belongs to the caller's former role or org unit: clear local data and pull again.
    ResyncRequired => "resync_required",
    /// The record holds as many photos as allowed.
    TooManyPhotos => "too_many_photos",
    /// The record holds as much evidence as allowed.
    TooMuchEvidence => "too_much_evidence",

    // Events and the public.
    /// An event step was completed before the steps it depends on.
    StepOutOfOrder => "step_out_of_order",
    /// The step cannot be done yet: hosting waits for the event's day, follow-up and review for its end.
    StepTooEarly => "step_too_early",
    /// A check-in outside the window around the event (two hours before it starts to four after it ends).
    OutsideCheckinWindow => "outside_checkin_window",
    /// Reviews are missing for the step to be completed.
    ReviewsMissing => "reviews_missing",
    /// Registration for the event is closed.
    RegistrationClosed => "registration_closed",
    /// This phone holds a registration for the event already; its ticket page has it.
    AlreadyRegistered => "already_registered",
    /// Registration for the event is paused.
    RegistrationPaused => "registration_paused",
    /// The registration was cancelled.
    RegistrationCancelled => "registration_cancelled",
    /// The event was cancelled.
    EventCancelled => "event_cancelled",
    /// The attendee is on the waitlist, not holding a seat.
    Waitlisted => "waitlisted",
    /// The attendee has already checked in.
    AlreadyCheckedIn => "already_checked_in",
    /// The attendee's personal data was erased.
    AttendeeErased => "attendee_erased",
    /// A lead with this phone already exists; `existing_id` names it when the caller may see it.
    DuplicateLead => "duplicate_lead",
    /// The phone is already used by another user.
    PhoneTaken => "phone_taken",

    // Projects and supervision.
    /// The coaching plan is already completed.
    PlanCompleted => "plan_completed",
    /// A plan already exists for that trainee and period.
    PlanExists => "plan_exists",
    /// The coaching phase is not finished yet.
    PhaseNotFinished => "phase_not_finished",
    /// The period is not over yet.
    PeriodNotOver => "period_not_over",
    /// The record is not published.
    NotPublished => "not_published",
    /// The case is published and can no longer be edited.
    CasePublished => "case_published",
    /// There is no star for that day.
    NoStar => "no_star",
    /// The prize has already been paid.
    AlreadyPaid => "already_paid",
    /// The award pool does not hold enough for this payout.
    InsufficientPool => "insufficient_pool",

    // The server.
    /// The server is not ready to serve yet.
    NotReady => "not_ready",
    /// The database is not reachable; try again shortly.
    DatabaseUnavailable => "database_unavailable",
    /// Something went wrong on the server's side.
    InternalError => "internal_error",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn each_code_is_its_serde_name_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).ok(), Some(serde_json::Value::from(code.as_str())));
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(!code.meaning().is_empty());
        }
    }
}
