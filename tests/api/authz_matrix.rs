//! The authorization matrix: every operation of the spec, for every role, on objects that lie in
//! every position relative to the caller (own, same outlet, same sub-branch, other sub-branch,
//! other branch). The expected status comes from the scope rules written once below, not per
//! cell; an operation without a row fails the test, so a new route must say who may call it.
//! Anonymous callers are covered by `contract::every_guarded_route_refuses_a_caller_without_a_token`.
//!
//! Besides the status, every answer is scanned for the id of any object the caller may not see:
//! nothing of another scope leaks, not in lists, counts, exports, sync pulls or embedded records.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Login, TestApp, spawn_app, unique_phone};
use crate::partners::CENTRE;
use crate::projects::day;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pos {
    Own,
    SameOutlet,
    SameSub,
    OtherSub,
    OtherBranch,
}

const POSITIONS: [Pos; 5] = [Pos::Own, Pos::SameOutlet, Pos::SameSub, Pos::OtherSub, Pos::OtherBranch];

/// The five callers: an account manager of outlet A1, the manager of sub-branch A1, the manager
/// and a supervisor of branch A, an admin.
const CALLERS: [Role; 5] =
    [Role::AccountManager, Role::SubBranchManager, Role::BranchManager, Role::Supervisor, Role::Admin];

/// Whether the caller's org subtree holds a position (the object's org unit).
fn in_subtree(caller: Role, pos: Pos) -> bool {
    match caller {
        Role::Admin => true,
        Role::BranchManager | Role::Supervisor => pos != Pos::OtherBranch,
        Role::SubBranchManager => matches!(pos, Pos::Own | Pos::SameOutlet | Pos::SameSub),
        Role::AccountManager => matches!(pos, Pos::Own | Pos::SameOutlet),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Partner,
    Visit,
    Photo,
    Event,
    Lead,
    Project,
    User,
    Unit,
    /// A best-practice case still in draft, written by the position's account manager.
    Case,
    /// The same, published by a manager.
    PublishedCase,
    /// A coaching plan whose trainee is the position's account manager.
    Plan,
    /// A supervision of the position's outlet (by an admin), with an evidence photo.
    Supervision,
    /// A finding of such a supervision, owned by the position's account manager.
    Finding,
}

/// Who sees an object of a kind at a position.
fn visible(kind: Kind, caller: Role, pos: Pos) -> bool {
    match kind {
        // Shared within the outlet: an account manager sees the partners and events of colleagues.
        Kind::Partner | Kind::Event | Kind::Unit => in_subtree(caller, pos),
        // The outlet's own staff read its supervisions and findings: the feedback is for them.
        Kind::Supervision | Kind::Finding => in_subtree(caller, pos),
        // One's own, for an account manager; the subtree's, for everyone else.
        Kind::Visit | Kind::Photo | Kind::Lead => {
            in_subtree(caller, pos) && (caller != Role::AccountManager || pos == Pos::Own)
        }
        Kind::User => in_subtree(caller, pos) || (caller == Role::AccountManager && pos == Pos::Own),
        // A draft: its author, and the managers and supervisors over it.
        Kind::Case | Kind::Plan => in_subtree(caller, pos) && (caller != Role::AccountManager || pos == Pos::Own),
        // Published: the whole branch.
        Kind::PublishedCase => caller == Role::Admin || pos != Pos::OtherBranch,
        // Managers: the subtree's; account managers: the ones they lead; a supervisor: the one
        // assigned to them (the same-outlet project).
        Kind::Project => match caller {
            Role::AccountManager => pos == Pos::Own,
            Role::Supervisor => pos == Pos::SameOutlet,
            _ => in_subtree(caller, pos),
        },
    }
}

/// What a caller who sees the object may do with it.
#[derive(Clone, Copy, Debug)]
enum Access {
    Read,
    /// Partners, visits, photos, events and their steps: the owner, or a manager; never a supervisor.
    OwnerWrite,
    /// Leads: anyone who sees them but a supervisor.
    NotSupervisor,
    /// Check-ins: anyone who sees the event (a colleague or supervisor helps at the door).
    AnyViewer,
    /// Project settings: the managers over the project.
    Manage,
    /// Project schedule and manual figures: its lead, or a manager.
    Keep,
    /// Editing an org unit: a manager over it.
    Manager,
    /// Editing a user: a manager over them, or the user (their own name and password).
    ManagerOrSelf,
    /// Publishing a case: a manager whose subtree holds it (a published case is read branch-wide).
    ManagerOver,
}

fn allowed(access: Access, caller: Role, pos: Pos) -> bool {
    let manager = caller.manages_people();
    match access {
        Access::Read | Access::AnyViewer => true,
        Access::OwnerWrite => manager || (caller == Role::AccountManager && pos == Pos::Own),
        Access::NotSupervisor => caller != Role::Supervisor,
        Access::Manage | Access::Manager => manager,
        Access::Keep | Access::ManagerOrSelf => manager || (caller == Role::AccountManager && pos == Pos::Own),
        Access::ManagerOver => manager && in_subtree(caller, pos),
    }
}

/// A request body.
#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    Bytes(&'static str, Vec<u8>),
}

/// One operation on one object: how to call it, what success answers, who may.
struct Row {
    kind: Kind,
    access: Access,
    success: u16,
    /// Destroys or finishes its object: each call gets a fresh one.
    consumes: bool,
    path: fn(&Obj) -> String,
    body: fn(&Obj) -> Body,
}

fn no_body(_: &Obj) -> Body {
    Body::None
}

fn jpeg(_: &Obj) -> Body {
    Body::Bytes("image/jpeg", crate::photos::photo(64, 48, &Default::default()))
}

/// An object at a position, with what its sub-resources need.
#[derive(Clone, Debug, Default)]
struct Obj {
    id: String,
    /// A visit's photo's visit, a project's milestone, an event's registration code.
    second: String,
    /// A project's manual metric, an event's ticket, an event's evidence digest.
    third: String,
    fourth: String,
}

/// The rows for the operations that name one object. Collections are checked apart (below).
fn rows() -> BTreeMap<(&'static str, &'static str), Row> {
    use Access::*;
    use Kind::*;
    let row = |kind, access, success, path: fn(&Obj) -> String, body: fn(&Obj) -> Body| Row {
        kind,
        access,
        success,
        consumes: false,
        path,
        body,
    };
    let consuming = |kind, access, success, path: fn(&Obj) -> String| Row {
        kind,
        access,
        success,
        consumes: true,
        path,
        body: no_body,
    };
    BTreeMap::from([
        (("get", "/api/v1/partners/{id}"), row(Partner, Read, 200, |o| format!("/api/v1/partners/{}", o.id), no_body)),
        (
            ("patch", "/api/v1/partners/{id}"),
            row(
                Partner,
                OwnerWrite,
                200,
                |o| format!("/api/v1/partners/{}", o.id),
                |_| Body::Json(json!({"address": "改过的地址"})),
            ),
        ),
        (
            ("delete", "/api/v1/partners/{id}"),
            consuming(Partner, OwnerWrite, 204, |o| format!("/api/v1/partners/{}", o.id)),
        ),
        (
            ("get", "/api/v1/partners/{id}/history"),
            row(Partner, Read, 200, |o| format!("/api/v1/partners/{}/history", o.id), no_body),
        ),
        (("get", "/api/v1/visits/{id}"), row(Visit, Read, 200, |o| format!("/api/v1/visits/{}", o.id), no_body)),
        (
            ("patch", "/api/v1/visits/{id}"),
            row(
                Visit,
                OwnerWrite,
                200,
                |o| format!("/api/v1/visits/{}", o.id),
                |_| Body::Json(json!({"notes": "补记"})),
            ),
        ),
        (("delete", "/api/v1/visits/{id}"), consuming(Visit, OwnerWrite, 204, |o| format!("/api/v1/visits/{}", o.id))),
        (
            ("get", "/api/v1/visits/{id}/photos"),
            row(Visit, Read, 200, |o| format!("/api/v1/visits/{}/photos", o.id), no_body),
        ),
        (
            ("post", "/api/v1/visits/{id}/photos"),
            // A fresh visit each time: the same bytes again on one visit answer 200, not 201.
            Row { consumes: true, ..row(Visit, OwnerWrite, 201, |o| format!("/api/v1/visits/{}/photos", o.id), jpeg) },
        ),
        (("get", "/api/v1/photos/{id}"), row(Photo, Read, 200, |o| format!("/api/v1/photos/{}", o.id), no_body)),
        (
            ("get", "/api/v1/photos/{id}/thumbnail"),
            row(Photo, Read, 200, |o| format!("/api/v1/photos/{}/thumbnail", o.id), no_body),
        ),
        (("delete", "/api/v1/photos/{id}"), consuming(Photo, OwnerWrite, 204, |o| format!("/api/v1/photos/{}", o.id))),
        (("get", "/api/v1/events/{id}"), row(Event, Read, 200, |o| format!("/api/v1/events/{}", o.id), no_body)),
        (
            ("patch", "/api/v1/events/{id}"),
            row(
                Event,
                OwnerWrite,
                200,
                |o| format!("/api/v1/events/{}", o.id),
                |_| Body::Json(json!({"venue": "换了场地"})),
            ),
        ),
        (
            ("get", "/api/v1/events/{id}/attendees"),
            row(Event, Read, 200, |o| format!("/api/v1/events/{}/attendees", o.id), no_body),
        ),
        (
            ("get", "/api/v1/events/{id}/attendees.csv"),
            row(Event, Read, 200, |o| format!("/api/v1/events/{}/attendees.csv", o.id), no_body),
        ),
        (
            ("get", "/api/v1/events/{id}/attendees.xlsx"),
            row(Event, Read, 200, |o| format!("/api/v1/events/{}/attendees.xlsx", o.id), no_body),
        ),
        (
            ("post", "/api/v1/events/{id}/checkins"),
            row(
                Event,
                AnyViewer,
                200,
                |o| format!("/api/v1/events/{}/checkins", o.id),
                |o| Body::Json(json!({"ticket_code": o.third})),
            ),
        ),
        (
            ("post", "/api/v1/events/{id}/checkins/batch"),
            row(
                Event,
                AnyViewer,
                200,
                |o| format!("/api/v1/events/{}/checkins/batch", o.id),
                |o| Body::Json(json!({"items": [{"ticket_code": o.third}]})),
            ),
        ),
        (
            ("get", "/api/v1/events/{id}/evidence/{sha256}"),
            row(Event, Read, 200, |o| format!("/api/v1/events/{}/evidence/{}", o.id, o.fourth), no_body),
        ),
        (
            ("get", "/api/v1/events/{id}/evidence/{sha256}/thumbnail"),
            row(Event, Read, 200, |o| format!("/api/v1/events/{}/evidence/{}/thumbnail", o.id, o.fourth), no_body),
        ),
        (
            ("get", "/api/v1/events/{id}/qr.png"),
            row(Event, Read, 200, |o| format!("/api/v1/events/{}/qr.png", o.id), no_body),
        ),
        (
            ("get", "/api/v1/events/{id}/steps"),
            row(Event, Read, 200, |o| format!("/api/v1/events/{}/steps", o.id), no_body),
        ),
        (
            ("patch", "/api/v1/events/{id}/steps/{step}"),
            row(
                Event,
                OwnerWrite,
                200,
                |o| format!("/api/v1/events/{}/steps/invite", o.id),
                |_| Body::Json(json!({"checklist": [{"item": "在业主群发海报", "done": true}]})),
            ),
        ),
        (
            ("post", "/api/v1/events/{id}/steps/{step}/complete"),
            Row {
                consumes: true,
                ..row(
                    Event,
                    OwnerWrite,
                    200,
                    |o| format!("/api/v1/events/{}/steps/plan/complete", o.id),
                    |_| Body::Json(json!({"notes": "方案定了"})),
                )
            },
        ),
        (
            ("post", "/api/v1/events/{id}/steps/{step}/evidence"),
            row(Event, OwnerWrite, 200, |o| format!("/api/v1/events/{}/steps/prepare/evidence", o.id), jpeg),
        ),
        (("get", "/api/v1/leads/{id}"), row(Lead, Read, 200, |o| format!("/api/v1/leads/{}", o.id), no_body)),
        (
            ("patch", "/api/v1/leads/{id}"),
            row(
                Lead,
                NotSupervisor,
                200,
                |o| format!("/api/v1/leads/{}", o.id),
                |_| Body::Json(json!({"needs": "想了解少儿保险"})),
            ),
        ),
        (
            // A manager over the lead reviews a waiting conversion; these leads have none (409).
            ("post", "/api/v1/leads/{id}/conversion-review"),
            row(
                Lead,
                Manager,
                409,
                |o| format!("/api/v1/leads/{}/conversion-review", o.id),
                |_| Body::Json(json!({"confirm": true})),
            ),
        ),
        (("delete", "/api/v1/leads/{id}"), consuming(Lead, NotSupervisor, 204, |o| format!("/api/v1/leads/{}", o.id))),
        (
            ("get", "/api/v1/leads/{id}/history"),
            row(Lead, Read, 200, |o| format!("/api/v1/leads/{}/history", o.id), no_body),
        ),
        (("get", "/api/v1/projects/{id}"), row(Project, Read, 200, |o| format!("/api/v1/projects/{}", o.id), no_body)),
        (
            ("patch", "/api/v1/projects/{id}"),
            row(
                Project,
                Manage,
                200,
                |o| format!("/api/v1/projects/{}", o.id),
                |_| Body::Json(json!({"service_package": ["亲子财商课", "反诈讲座"]})),
            ),
        ),
        (
            ("get", "/api/v1/projects/{id}/showcase.png"),
            row(Project, Read, 200, |o| format!("/api/v1/projects/{}/showcase.png", o.id), no_body),
        ),
        (
            ("get", "/api/v1/projects/{id}/pool"),
            row(Project, Read, 200, |o| format!("/api/v1/projects/{}/pool", o.id), no_body),
        ),
        (
            ("post", "/api/v1/projects/{id}/pool/contributions"),
            // The team and its managers pay in; an assigned supervisor only watches.
            row(
                Project,
                NotSupervisor,
                201,
                |o| format!("/api/v1/projects/{}/pool/contributions", o.id),
                |_| Body::Json(json!({"amount": 1})),
            ),
        ),
        (
            ("post", "/api/v1/projects/{id}/pool/payouts"),
            // Nobody in this world scored yesterday: a caller who gets past scope and role meets
            // the business rule (409 no_star), which is what this cell checks.
            row(
                Project,
                Manage,
                409,
                |o| format!("/api/v1/projects/{}/pool/payouts", o.id),
                |_| Body::Json(json!({"period": "day", "date": day(-1), "amount": 1})),
            ),
        ),
        (
            ("get", "/api/v1/projects/{id}/leaderboard"),
            row(Project, Read, 200, |o| format!("/api/v1/projects/{}/leaderboard", o.id), no_body),
        ),
        (
            ("post", "/api/v1/projects/{id}/manual-metrics"),
            row(
                Project,
                Manage,
                201,
                |o| format!("/api/v1/projects/{}/manual-metrics", o.id),
                |_| Body::Json(json!({"name": "AUM增量", "unit": "万元", "total": 500})),
            ),
        ),
        (
            ("post", "/api/v1/projects/{id}/manual-metrics/{mid}/values"),
            row(
                Project,
                Keep,
                201,
                |o| format!("/api/v1/projects/{}/manual-metrics/{}/values", o.id, o.third),
                |o| Body::Json(json!({"on_date": day(0), "value": 10, "user_id": o.fourth})),
            ),
        ),
        (
            ("post", "/api/v1/projects/{id}/milestones"),
            row(
                Project,
                Keep,
                201,
                |o| format!("/api/v1/projects/{}/milestones", o.id),
                |_| Body::Json(json!({"title": "走访十个社区", "due_on": day(5)})),
            ),
        ),
        (
            ("patch", "/api/v1/projects/{id}/milestones/{mid}"),
            row(
                Project,
                Keep,
                200,
                |o| format!("/api/v1/projects/{}/milestones/{}", o.id, o.second),
                |_| Body::Json(json!({"done": true})),
            ),
        ),
        (
            ("get", "/api/v1/projects/{id}/points"),
            row(Project, Read, 200, |o| format!("/api/v1/projects/{}/points", o.id), no_body),
        ),
        (
            ("put", "/api/v1/projects/{id}/points-rules"),
            row(
                Project,
                Manage,
                200,
                |o| format!("/api/v1/projects/{}/points-rules", o.id),
                |_| Body::Json(json!({"rules": [{"action": "verified_visit", "points": 5, "daily_cap": 20}]})),
            ),
        ),
        (
            ("get", "/api/v1/projects/{id}/progress"),
            row(Project, Read, 200, |o| format!("/api/v1/projects/{}/progress", o.id), no_body),
        ),
        (
            ("get", "/api/v1/projects/{id}/report.xlsx"),
            row(Project, Read, 200, |o| format!("/api/v1/projects/{}/report.xlsx", o.id), no_body),
        ),
        (
            ("get", "/api/v1/projects/{id}/report/{table}.csv"),
            row(Project, Read, 200, |o| format!("/api/v1/projects/{}/report/members.csv", o.id), no_body),
        ),
        (
            ("get", "/api/v1/projects/{id}/stars"),
            row(Project, Read, 200, |o| format!("/api/v1/projects/{}/stars", o.id), no_body),
        ),
        (
            ("put", "/api/v1/projects/{id}/targets"),
            row(
                Project,
                Manage,
                200,
                |o| format!("/api/v1/projects/{}/targets", o.id),
                |_| Body::Json(json!({"targets": [{"metric": "visits", "total": 30}]})),
            ),
        ),
        (
            ("put", "/api/v1/projects/{id}/team"),
            // A fresh project each time: a new team drops the assigned supervisor.
            Row {
                consumes: true,
                ..row(
                    Project,
                    Manage,
                    200,
                    |o| format!("/api/v1/projects/{}/team", o.id),
                    |o| Body::Json(json!({"lead_id": o.fourth, "member_ids": [o.fourth]})),
                )
            },
        ),
        (
            ("get", "/api/v1/coaching-plans/{id}"),
            row(Plan, Read, 200, |o| format!("/api/v1/coaching-plans/{}", o.id), no_body),
        ),
        (
            ("post", "/api/v1/coaching-plans/{id}/reviews"),
            // The trainee, the coach (none here) and the managers over the plan.
            row(
                Plan,
                OwnerWrite,
                201,
                |o| format!("/api/v1/coaching-plans/{}/reviews", o.id),
                |_| Body::Json(json!({"summary": "跟岗复盘"})),
            ),
        ),
        (
            ("post", "/api/v1/coaching-plans/{id}/advance"),
            // Observation began today: a caller who gets past scope and role meets the 21-day
            // rule (409 phase_not_finished), which is what this cell checks.
            row(
                Plan,
                ManagerOver,
                409,
                |o| format!("/api/v1/coaching-plans/{}/advance", o.id),
                |_| Body::Json(json!({})),
            ),
        ),
        (
            ("get", "/api/v1/supervisions/{id}"),
            row(Supervision, Read, 200, |o| format!("/api/v1/supervisions/{}", o.id), no_body),
        ),
        (
            ("patch", "/api/v1/supervisions/{id}"),
            // Its supervisor (an admin here) or a manager over the outlet.
            row(
                Supervision,
                Manage,
                200,
                |o| format!("/api/v1/supervisions/{}", o.id),
                |_| Body::Json(json!({"review_change": "先看数据"})),
            ),
        ),
        (
            ("delete", "/api/v1/supervisions/{id}"),
            consuming(Supervision, Manage, 204, |o| format!("/api/v1/supervisions/{}", o.id)),
        ),
        (
            ("post", "/api/v1/supervisions/{id}/photos"),
            row(
                Supervision,
                Manage,
                201,
                |o| format!("/api/v1/supervisions/{}/photos?item=retail_situation", o.id),
                jpeg,
            ),
        ),
        (
            ("get", "/api/v1/supervisions/{id}/photos/{sha256}"),
            row(Supervision, Read, 200, |o| format!("/api/v1/supervisions/{}/photos/{}", o.id, o.second), no_body),
        ),
        (
            ("get", "/api/v1/supervisions/{id}/photos/{sha256}/thumbnail"),
            row(
                Supervision,
                Read,
                200,
                |o| format!("/api/v1/supervisions/{}/photos/{}/thumbnail", o.id, o.second),
                no_body,
            ),
        ),
        (
            ("post", "/api/v1/supervisions/{id}/findings"),
            row(
                Supervision,
                Manage,
                201,
                |o| format!("/api/v1/supervisions/{}/findings", o.id),
                |o| Body::Json(json!({"title": "客群地图未更新", "owner_id": o.fourth, "due_on": day(3)})),
            ),
        ),
        (("get", "/api/v1/findings/{id}"), row(Finding, Read, 200, |o| format!("/api/v1/findings/{}", o.id), no_body)),
        (
            ("patch", "/api/v1/findings/{id}"),
            // Its owner (the position's account manager), its supervisor or a manager over it.
            row(
                Finding,
                OwnerWrite,
                200,
                |o| format!("/api/v1/findings/{}", o.id),
                |_| Body::Json(json!({"done_note": "处理中"})),
            ),
        ),
        (("get", "/api/v1/cases/{id}"), row(Case, Read, 200, |o| format!("/api/v1/cases/{}", o.id), no_body)),
        (
            ("patch", "/api/v1/cases/{id}"),
            row(
                Case,
                OwnerWrite,
                200,
                |o| format!("/api/v1/cases/{}", o.id),
                |_| Body::Json(json!({"results": "补充"})),
            ),
        ),
        (("delete", "/api/v1/cases/{id}"), consuming(Case, OwnerWrite, 204, |o| format!("/api/v1/cases/{}", o.id))),
        (
            ("post", "/api/v1/cases/{id}/publish"),
            consuming(Case, ManagerOver, 200, |o| format!("/api/v1/cases/{}/publish", o.id)),
        ),
        (
            ("post", "/api/v1/cases/{id}/withdraw"),
            consuming(PublishedCase, ManagerOver, 200, |o| format!("/api/v1/cases/{}/withdraw", o.id)),
        ),
        (
            ("post", "/api/v1/cases/{id}/useful"),
            row(PublishedCase, Read, 200, |o| format!("/api/v1/cases/{}/useful", o.id), no_body),
        ),
        (
            ("delete", "/api/v1/cases/{id}/useful"),
            row(PublishedCase, Read, 200, |o| format!("/api/v1/cases/{}/useful", o.id), no_body),
        ),
        (
            ("post", "/api/v1/cases/{id}/photos"),
            row(Case, OwnerWrite, 201, |o| format!("/api/v1/cases/{}/photos", o.id), jpeg),
        ),
        (
            ("get", "/api/v1/cases/{id}/photos/{sha256}"),
            row(Case, Read, 200, |o| format!("/api/v1/cases/{}/photos/{}", o.id, o.second), no_body),
        ),
        (
            ("get", "/api/v1/cases/{id}/photos/{sha256}/thumbnail"),
            row(Case, Read, 200, |o| format!("/api/v1/cases/{}/photos/{}/thumbnail", o.id, o.second), no_body),
        ),
        (("get", "/api/v1/users/{id}"), row(User, Read, 200, |o| format!("/api/v1/users/{}", o.id), no_body)),
        (
            ("patch", "/api/v1/users/{id}"),
            row(
                User,
                ManagerOrSelf,
                200,
                |o| format!("/api/v1/users/{}", o.id),
                |_| Body::Json(json!({"name": "改名"})),
            ),
        ),
        (("get", "/api/v1/org-units/{id}"), row(Unit, Read, 200, |o| format!("/api/v1/org-units/{}", o.id), no_body)),
        (
            ("patch", "/api/v1/org-units/{id}"),
            row(
                Unit,
                Manager,
                200,
                |o| format!("/api/v1/org-units/{}", o.id),
                |_| Body::Json(json!({"name": "改名网点"})),
            ),
        ),
    ])
}

/// Operations that name no object of a position; each is checked by a scope test below.
const COLLECTIONS: &[(&str, &str)] = &[
    ("get", "/api/v1/audit"),
    // The library's scope (drafts, branch-wide publication, filters) is checked in `cases`.
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    // The subtree's supervisions and findings, and the owner's view, are checked in `supervisions`.
    ("get", "/api/v1/supervisions"),
    ("post", "/api/v1/supervisions"),
    ("get", "/api/v1/findings"),
    // Plans in scope and the managers' view are checked in `coaching`.
    ("get", "/api/v1/coaching-plans"),
    ("post", "/api/v1/coaching-plans"),
    ("get", "/api/v1/coaching-plans/overview"),
    ("get", "/api/v1/events"),
    ("post", "/api/v1/events"),
    ("get", "/api/v1/leads"),
    ("post", "/api/v1/leads"),
    ("get", "/api/v1/map/coverage"),
    ("get", "/api/v1/map/features"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/org-units"),
    ("post", "/api/v1/org-units"),
    ("get", "/api/v1/partners"),
    ("post", "/api/v1/partners"),
    ("get", "/api/v1/partners/nearby"),
    ("get", "/api/v1/partners/outside-territory"),
    ("get", "/api/v1/projects"),
    ("post", "/api/v1/projects"),
    ("get", "/api/v1/reports/daily"),
    ("get", "/api/v1/sync"),
    ("post", "/api/v1/sync"),
    ("get", "/api/v1/sync/pull"),
    ("post", "/api/v1/sync/push"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/visits"),
    ("post", "/api/v1/visits"),
];

/// The people of the world: callers, and the account managers who own each position's objects.
struct World {
    callers: HashMap<Role, Login>,
    owners: BTreeMap<Pos, Login>,
    units: BTreeMap<Pos, Uuid>,
    admin: Login,
    /// Every object made, with its kind and position, for the leak scan.
    made: Vec<(Kind, Pos, String)>,
}

impl World {
    async fn new(app: &TestApp) -> World {
        let t = &app.tree;
        let mut callers = HashMap::new();
        for role in CALLERS {
            callers.insert(role, app.login_as(role).await);
        }
        let units = BTreeMap::from([
            (Pos::Own, t.outlet_a1),
            (Pos::SameOutlet, t.outlet_a1),
            (Pos::SameSub, t.outlet_a1b),
            (Pos::OtherSub, t.outlet_a2),
            (Pos::OtherBranch, t.outlet_b1),
        ]);
        // The caller account manager owns the own position's objects.
        let mut owners = BTreeMap::from([(Pos::Own, clone_login(&callers[&Role::AccountManager]))]);
        for pos in POSITIONS.into_iter().filter(|p| *p != Pos::Own) {
            owners.insert(pos, app.login_at(Role::AccountManager, Some(units[&pos])).await);
        }
        let admin = clone_login(&callers[&Role::Admin]);
        let mut made = Vec::new();
        for (pos, owner) in &owners {
            made.push((Kind::User, *pos, owner.id.to_string()));
        }
        for pos in POSITIONS.into_iter().filter(|p| *p != Pos::Own) {
            made.push((Kind::Unit, pos, units[&pos].to_string()));
        }
        World { callers, owners, units, admin, made }
    }

    async fn make(&mut self, app: &TestApp, kind: Kind, pos: Pos) -> Obj {
        let owner = clone_login(&self.owners[&pos]);
        let token = owner.token.as_str();
        let obj = match kind {
            Kind::User => Obj { id: owner.id.to_string(), ..Obj::default() },
            Kind::Unit => Obj { id: self.units[&pos].to_string(), ..Obj::default() },
            Kind::Partner => Obj { id: partner(app, token).await, ..Obj::default() },
            Kind::Visit => Obj { id: visit(app, token).await, ..Obj::default() },
            Kind::Photo => {
                let visit = visit(app, token).await;
                self.made.push((Kind::Visit, pos, visit.clone()));
                let path = format!("/api/v1/visits/{visit}/photos");
                let photo = expect(app, Method::POST, &path, token, jpeg(&Obj::default()), 201).await;
                Obj { id: photo["id"].as_str().unwrap().to_owned(), second: visit, ..Obj::default() }
            }
            Kind::Event => {
                let partner = partner(app, token).await;
                self.made.push((Kind::Partner, pos, partner.clone()));
                let body = json!({
                    "partner_id": partner, "title": "反诈讲座", "theme": "anti_fraud", "venue": "社区活动室", "capacity": 50,
                    "starts_at": (Utc::now() - Duration::hours(1)).to_rfc3339(), "ends_at": (Utc::now() + Duration::hours(2)).to_rfc3339(),
                    "registration_deadline": (Utc::now() + Duration::hours(1)).to_rfc3339()
                });
                let event = expect(app, Method::POST, "/api/v1/events", token, Body::Json(body), 201).await;
                let (id, code) =
                    (event["id"].as_str().unwrap().to_owned(), event["registration_code"].as_str().unwrap());
                let registration = json!({"name": "王阿姨", "phone": unique_phone(), "consent": true});
                let path = format!("/api/v1/public/events/{code}/registrations");
                let ticket = expect(app, Method::POST, &path, "", Body::Json(registration), 201).await;
                let path = format!("/api/v1/events/{id}/steps/prepare/evidence");
                let step = expect(app, Method::POST, &path, token, jpeg(&Obj::default()), 200).await;
                Obj {
                    id,
                    second: code.to_owned(),
                    third: ticket["ticket_code"].as_str().unwrap().to_owned(),
                    fourth: step["evidence"][0]["sha256"].as_str().unwrap().to_owned(),
                }
            }
            Kind::Lead => {
                let phone = unique_phone();
                let body = json!({"kind": "person", "name": "李先生", "phone": phone, "source": "walk_in"});
                let lead = expect(app, Method::POST, "/api/v1/leads", token, Body::Json(body), 201).await;
                Obj { id: lead["id"].as_str().unwrap().to_owned(), second: phone, ..Obj::default() }
            }
            Kind::Supervision | Kind::Finding => {
                let admin = self.admin.token.clone();
                let at = (Utc::now() - Duration::minutes(30)).to_rfc3339_opts(SecondsFormat::Secs, true);
                let body = json!({
                    "org_unit_id": self.units[&pos], "visited_at": at,
                    "location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10},
                    "checklist": [{"item": "retail_situation", "score": 3}]
                });
                let made = expect(app, Method::POST, "/api/v1/supervisions", &admin, Body::Json(body), 201).await;
                let id = made["id"].as_str().unwrap().to_owned();
                let path = format!("/api/v1/supervisions/{id}/photos?item=retail_situation");
                let with_photo = expect(app, Method::POST, &path, &admin, jpeg(&Obj::default()), 201).await;
                let sha = with_photo["checklist"][0]["photos"][0]["sha256"].as_str().unwrap().to_owned();
                let finding = json!({"title": "晨会流程", "owner_id": owner.id, "due_on": day(2)});
                let path = format!("/api/v1/supervisions/{id}/findings");
                let finding = expect(app, Method::POST, &path, &admin, Body::Json(finding), 201).await;
                let finding = finding["id"].as_str().unwrap().to_owned();
                if kind == Kind::Finding {
                    self.made.push((Kind::Supervision, pos, id.clone()));
                    Obj { id: finding, second: sha, third: id, fourth: owner.id.to_string() }
                } else {
                    self.made.push((Kind::Finding, pos, finding.clone()));
                    Obj { id, second: sha, third: finding, fourth: owner.id.to_string() }
                }
            }
            Kind::Plan => {
                let body = json!({"trainee_id": owner.id, "coach_name": "外部教练"});
                let admin = self.admin.token.clone();
                let plan = expect(app, Method::POST, "/api/v1/coaching-plans", &admin, Body::Json(body), 201).await;
                Obj { id: plan["id"].as_str().unwrap().to_owned(), ..Obj::default() }
            }
            Kind::Case | Kind::PublishedCase => {
                let body = json!({"title": "社区亲子课", "segment": "outreach", "what_done": "办了三场", "results": "新增客户"});
                let case = expect(app, Method::POST, "/api/v1/cases", token, Body::Json(body), 201).await;
                let id = case["id"].as_str().unwrap().to_owned();
                let path = format!("/api/v1/cases/{id}/photos");
                let with_photo = expect(app, Method::POST, &path, token, jpeg(&Obj::default()), 201).await;
                if kind == Kind::PublishedCase {
                    let path = format!("/api/v1/cases/{id}/publish");
                    expect(app, Method::POST, &path, &self.admin.token.clone(), Body::None, 200).await;
                }
                Obj { id, second: with_photo["photos"][0]["sha256"].as_str().unwrap().to_owned(), ..Obj::default() }
            }
            Kind::Project => {
                let supervisor = (pos == Pos::SameOutlet).then(|| self.callers[&Role::Supervisor].id);
                let body = json!({
                    "name": "宝妈客群攻坚", "segment": "outreach", "starts_on": day(-3), "ends_on": day(30),
                    "org_unit_id": self.units[&pos], "lead_id": owner.id, "member_ids": [owner.id],
                    "supervisor_id": supervisor,
                    "targets": [{"metric": "visits", "total": 20}],
                    "milestones": [{"title": "完成社区摸排", "due_on": day(7)}]
                });
                let admin = self.admin.token.clone();
                let project = expect(app, Method::POST, "/api/v1/projects", &admin, Body::Json(body), 201).await;
                let id = project["id"].as_str().unwrap().to_owned();
                let metric = json!({"name": "AUM增量", "unit": "万元", "total": 500});
                let path = format!("/api/v1/projects/{id}/manual-metrics");
                let metric = expect(app, Method::POST, &path, &admin, Body::Json(metric), 201).await;
                Obj {
                    second: project["milestones"][0]["id"].as_str().unwrap().to_owned(),
                    third: metric["id"].as_str().unwrap().to_owned(),
                    fourth: owner.id.to_string(),
                    id,
                }
            }
        };
        self.made.push((kind, pos, obj.id.clone()));
        obj
    }

    /// Ids of objects the caller may not see.
    fn hidden_from(&self, caller: Role) -> Vec<&str> {
        self.made.iter().filter(|(kind, pos, _)| !visible(*kind, caller, *pos)).map(|(_, _, id)| id.as_str()).collect()
    }
}

fn clone_login(l: &Login) -> Login {
    Login { id: l.id, phone: l.phone.clone(), token: l.token.clone(), refresh: l.refresh.clone() }
}

async fn partner(app: &TestApp, token: &str) -> String {
    let body = json!({"name": "联盟超市", "category": "supermarket", "location": {"lat": CENTRE.0, "lon": CENTRE.1}});
    expect(app, Method::POST, "/api/v1/partners", token, Body::Json(body), 201).await["id"].as_str().unwrap().to_owned()
}

async fn visit(app: &TestApp, token: &str) -> String {
    let at = (Utc::now() - Duration::minutes(30)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let body = json!({"location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10}, "visited_at": at, "purpose": "relationship"});
    expect(app, Method::POST, "/api/v1/visits", token, Body::Json(body), 201).await["id"].as_str().unwrap().to_owned()
}

async fn send(app: &TestApp, method: Method, path: &str, token: &str, body: Body) -> (u16, String) {
    let mut request = app.client.request(method, app.url(path));
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    request = match body {
        Body::None => request,
        Body::Json(value) => request.json(&value),
        Body::Bytes(content_type, bytes) => request.header("content-type", content_type).body(bytes),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn expect(app: &TestApp, method: Method, path: &str, token: &str, body: Body, status: u16) -> Value {
    let (actual, text) = send(app, method.clone(), path, token, body).await;
    assert_eq!(actual, status, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Mismatches between the rules and the answers, and leaks, collected so one run shows them all.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn status(&mut self, what: String, expected: u16, actual: u16, body: &str) {
        if expected != actual {
            let body: String = body.chars().take(160).collect();
            self.0.push(format!("{what}: expected {expected}, got {actual} {body}"));
        }
    }

    fn leaks(&mut self, what: &str, world: &World, caller: Role, body: &str) {
        for id in world.hidden_from(caller) {
            if body.contains(id) {
                self.0.push(format!("{what}: the answer names {id}, which a {} may not see", caller.as_str()));
            }
        }
    }
}

fn operations() -> BTreeSet<(String, String)> {
    let spec: Value = serde_json::to_value(outreach::http::openapi()).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

#[test]
fn every_operation_has_a_row_in_the_matrix() {
    let rows = rows();
    let public: BTreeSet<(String, String)> =
        outreach::http::PUBLIC_OPERATIONS.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    let covered: BTreeSet<(String, String)> = rows
        .keys()
        .chain(COLLECTIONS.iter())
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .chain(public.iter().cloned())
        .collect();
    let missing: Vec<_> = operations().difference(&covered).cloned().collect();
    assert!(missing.is_empty(), "operations without a row in the authorization matrix: {missing:?}");
    let stale: Vec<_> = covered.difference(&operations()).cloned().collect();
    assert!(stale.is_empty(), "rows for operations that no longer exist: {stale:?}");
}

/// The matrix runs in [`PARTS`] tests, each with its own app and world, so that the parts run
/// side by side. Each part builds the whole world (every kind at every position, about a second),
/// so its leak scan looks for the same ids as one test over all rows did.
const PARTS: usize = 4;

/// Roughly what a row's cells cost, counted in plain cells: a consuming row makes an object for
/// each cell (about five times a plain cell); the showcase card is drawn anew for each caller who
/// may see it (about fifty: six of the matrix's twenty seconds in a debug build).
fn weight(template: &str, row: &Row) -> u32 {
    if template.ends_with("/showcase.png") {
        50
    } else if row.consumes {
        5
    } else {
        1
    }
}

/// The keys of the rows of each part: the heaviest rows first (then in key order), each to the
/// part with the least weight so far (the first of equals). The same rows every run, and parts
/// that take about as long as each other.
fn parts() -> Vec<Vec<(&'static str, &'static str)>> {
    let rows = rows();
    let mut keys: Vec<_> = rows.iter().map(|(key, row)| (weight(key.1, row), *key)).collect();
    keys.sort_by_key(|(weight, key)| (std::cmp::Reverse(*weight), *key));
    let mut parts = vec![(0, Vec::new()); PARTS];
    for (weight, key) in keys {
        let lightest = (0..PARTS).min_by_key(|i| (parts[*i].0, *i)).unwrap();
        parts[lightest].0 += weight;
        parts[lightest].1.push(key);
    }
    parts.into_iter().map(|(_, keys)| keys).collect()
}

/// The positions a row is called on: an org unit is nobody's own; a user's own record is the
/// caller account manager.
fn positions(row: &Row) -> impl Iterator<Item = Pos> + '_ {
    POSITIONS.into_iter().filter(|pos| !(row.kind == Kind::Unit && *pos == Pos::Own))
}

/// The cells of a row: every caller on every position it is called on.
fn cells_of(row: &Row) -> usize {
    CALLERS.len() * positions(row).count()
}

#[test]
fn the_matrix_parts_hold_every_row_once_and_over_a_thousand_cells() {
    let rows = rows();
    let parts = parts();
    assert_eq!(parts.len(), PARTS);
    assert_eq!(PART_TESTS, (0..PARTS).collect::<Vec<_>>(), "a test for each part, and no other");
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, part) in parts.iter().enumerate() {
        assert!(!part.is_empty(), "part {} of {PARTS} has no row", i + 1);
        for key in part {
            assert!(rows.contains_key(key), "part {} names {key:?}, which is no row", i + 1);
            *seen.entry(*key).or_default() += 1;
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).map(|(k, _)| k).collect();
    assert!(twice.is_empty(), "rows in more than one part: {twice:?}");
    let missing: Vec<_> = rows.keys().filter(|k| !seen.contains_key(*k)).collect();
    assert!(missing.is_empty(), "rows in no part: {missing:?}");
    let cells: usize = rows.values().map(cells_of).sum();
    let by_parts: usize = parts.iter().flatten().map(|key| cells_of(&rows[key])).sum();
    assert_eq!(by_parts, cells);
    assert!(cells > 1000, "{cells} cells");
}

/// One part of the matrix: its rows, every caller, every position; the count of cells it walked
/// must be the one its rows ask for.
async fn matrix_part(part: usize) {
    let mut rows = rows();
    let keys = parts().swap_remove(part);
    let expected_cells: usize = keys.iter().map(|key| cells_of(&rows[key])).sum();
    let app = spawn_app().await;
    let mut world = World::new(&app).await;
    let mut findings = Findings::default();
    // The objects every non-consuming row reads or edits, one per kind and position.
    let shared = world.populate(&app).await;
    let mut cells = 0;
    for key in keys {
        let (method, template) = key;
        let row = rows.remove(&key).unwrap();
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        for caller in CALLERS {
            let token = world.callers[&caller].token.clone();
            for pos in positions(&row) {
                let obj =
                    if row.consumes { world.make(&app, row.kind, pos).await } else { shared[&(row.kind, pos)].clone() };
                let expected = match (visible(row.kind, caller, pos), allowed(row.access, caller, pos)) {
                    (false, _) => 404,
                    (true, false) => 403,
                    (true, true) => row.success,
                };
                let (status, body) = send(&app, method.clone(), &(row.path)(&obj), &token, (row.body)(&obj)).await;
                let what = format!("{method} {template} as {} on {pos:?}", caller.as_str());
                findings.status(what.clone(), expected, status, &body);
                findings.leaks(&what, &world, caller, &body);
                cells += 1;
            }
        }
    }
    assert!(findings.0.is_empty(), "{} of {cells} cells disagree:\n{}", findings.0.len(), findings.0.join("\n"));
    assert_eq!(cells, expected_cells, "part {} of {PARTS}: cells walked", part + 1);
}

/// A test per part, named by its number (`…_1_of_4`), and the list of the parts they run.
macro_rules! matrix_parts {
    ($($name:ident => $part:expr),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                matrix_part($part).await;
            }
        )+
        const PART_TESTS: &[usize] = &[$($part),+];
    };
}

matrix_parts! {
    every_object_operation_answers_each_role_by_the_scope_rules_1_of_4 => 0,
    every_object_operation_answers_each_role_by_the_scope_rules_2_of_4 => 1,
    every_object_operation_answers_each_role_by_the_scope_rules_3_of_4 => 2,
    every_object_operation_answers_each_role_by_the_scope_rules_4_of_4 => 3,
}

impl World {
    /// One object of each kind at each position.
    async fn populate(&mut self, app: &TestApp) -> BTreeMap<(Kind, Pos), Obj> {
        let mut shared = BTreeMap::new();
        for kind in [
            Kind::Partner,
            Kind::Visit,
            Kind::Photo,
            Kind::Event,
            Kind::Lead,
            Kind::Project,
            Kind::User,
            Kind::Unit,
            Kind::Case,
            Kind::PublishedCase,
            Kind::Plan,
            Kind::Supervision,
            Kind::Finding,
        ] {
            for pos in POSITIONS {
                if kind == Kind::Unit && pos == Pos::Own {
                    continue;
                }
                let obj = self.make(app, kind, pos).await;
                shared.insert((kind, pos), obj);
            }
        }
        // At each event of the first branch, someone who is already a lead at another position
        // registers and is checked in: the check-in links that lead, which every answer must then
        // name only to those who may open it (issue 21, finding 14: a check-in named another
        // sub-branch's lead, and this scan had no such link to catch it).
        let links = [
            (Pos::Own, Pos::OtherSub),
            (Pos::OtherSub, Pos::Own),
            (Pos::SameOutlet, Pos::SameSub),
            (Pos::SameSub, Pos::SameOutlet),
        ];
        for (event_pos, lead_pos) in links {
            let event = &shared[&(Kind::Event, event_pos)];
            let phone = &shared[&(Kind::Lead, lead_pos)].second;
            let body = json!({"name": "回头客", "phone": phone, "consent": true});
            let path = format!("/api/v1/public/events/{}/registrations", event.second);
            let ticket = expect(app, Method::POST, &path, "", Body::Json(body), 201).await;
            let owner = self.owners[&event_pos].token.clone();
            let path = format!("/api/v1/events/{}/checkins", event.id);
            let body = json!({"ticket_code": ticket["ticket_code"]});
            let checked = expect(app, Method::POST, &path, &owner, Body::Json(body), 200).await;
            assert!(checked["lead_id"].is_null(), "the owner of the event cannot open that lead: {checked}");
        }
        shared
    }

    fn count_visible(&self, kind: Kind, caller: Role) -> u64 {
        self.made.iter().filter(|(k, pos, _)| *k == kind && visible(kind, caller, *pos)).count() as u64
    }

    fn visible_ids(&self, kind: Kind, caller: Role) -> Vec<&str> {
        self.made
            .iter()
            .filter(|(k, pos, _)| *k == kind && visible(kind, caller, *pos))
            .map(|(_, _, id)| id.as_str())
            .collect()
    }
}

/// The sub-branch above a position's outlet.
fn sub_branch(app: &TestApp, pos: Pos) -> Uuid {
    match pos {
        Pos::Own | Pos::SameOutlet | Pos::SameSub => app.tree.sub_a1,
        Pos::OtherSub => app.tree.sub_a2,
        Pos::OtherBranch => app.tree.sub_b1,
    }
}

#[tokio::test]
async fn every_collection_shows_each_role_its_scope_and_nothing_else() {
    let app = spawn_app().await;
    let mut world = World::new(&app).await;
    let shared = world.populate(&app).await;
    let mut findings = Findings::default();
    let bbox = format!("{},{},{},{}", CENTRE.1 - 0.01, CENTRE.0 - 0.01, CENTRE.1 + 0.01, CENTRE.0 + 0.01);
    for caller in CALLERS {
        let token = world.callers[&caller].token.clone();
        let role = caller.as_str();
        // Lists: every object in scope, and nothing else.
        for (path, kind) in [
            ("/api/v1/partners?limit=500", Kind::Partner),
            ("/api/v1/visits?limit=500", Kind::Visit),
            ("/api/v1/events?limit=500", Kind::Event),
            ("/api/v1/leads?limit=500", Kind::Lead),
            ("/api/v1/projects?limit=500", Kind::Project),
            ("/api/v1/users?limit=500", Kind::User),
            ("/api/v1/org-units?limit=500", Kind::Unit),
        ] {
            let (status, body) = send(&app, Method::GET, path, &token, Body::None).await;
            findings.status(format!("GET {path} as {role}"), 200, status, &body);
            findings.leaks(&format!("GET {path} as {role}"), &world, caller, &body);
            for id in world.visible_ids(kind, caller) {
                if !body.contains(id) {
                    findings.0.push(format!("GET {path} as {role}: {kind:?} {id} in scope is missing"));
                }
            }
        }
        // Reads over the whole scope: only scanned for leaks.
        let mut reads = vec![
            "/api/v1/me".to_owned(),
            format!("/api/v1/partners/nearby?lat={}&lon={}&radius_m=5000&limit=500", CENTRE.0, CENTRE.1),
            "/api/v1/partners/outside-territory".to_owned(),
            format!("/api/v1/map/coverage?bbox={bbox}&zoom=14"),
            "/api/v1/reports/daily".to_owned(),
            format!("/api/v1/reports/daily?date={}", crate::projects::day(1)),
        ];
        if caller != Role::AccountManager {
            reads.push("/api/v1/audit?limit=500".to_owned());
        }
        for path in &reads {
            let (status, body) = send(&app, Method::GET, path, &token, Body::None).await;
            findings.status(format!("GET {path} as {role}"), 200, status, &body);
            findings.leaks(&format!("GET {path} as {role}"), &world, caller, &body);
        }
        if caller == Role::AccountManager {
            let (status, body) = send(&app, Method::GET, "/api/v1/audit", &token, Body::None).await;
            findings.status(format!("GET /api/v1/audit as {role}"), 403, status, &body);
        }
        // Map counts: the totals count exactly what the caller may see, clustered or not.
        for zoom in [4, 16] {
            let path = format!("/api/v1/map/features?bbox={bbox}&zoom={zoom}&layers=partners,visits,events");
            let (status, body) = send(&app, Method::GET, &path, &token, Body::None).await;
            findings.status(format!("GET {path} as {role}"), 200, status, &body);
            findings.leaks(&format!("GET {path} as {role}"), &world, caller, &body);
            let map: Value = serde_json::from_str(&body).unwrap_or_default();
            for (layer, kind) in [("partners", Kind::Partner), ("visits", Kind::Visit), ("events", Kind::Event)] {
                let expected = world.count_visible(kind, caller);
                if map["totals"][layer].as_u64() != Some(expected) {
                    findings.0.push(format!(
                        "{path} as {role}: {layer} total {} but {expected} in scope",
                        map["totals"][layer]
                    ));
                }
            }
        }
        // WatermelonDB's pull, one change set: the caller's scope only.
        let (status, body) = send(&app, Method::GET, "/api/v1/sync", &token, Body::None).await;
        findings.status(format!("GET /api/v1/sync as {role}"), 200, status, &body);
        // The directory names the people and units of the caller's branch (names and roles, for
        // pickers) and nothing else; every other table, the caller's scope only.
        let mut pulled: Value = serde_json::from_str(&body).unwrap_or_default();
        let directory: Vec<Value> = ["org_units", "colleagues"]
            .iter()
            .map(|t| pulled["changes"].as_object_mut().and_then(|c| c.remove(*t)).unwrap_or_default())
            .collect();
        findings.leaks(&format!("GET /api/v1/sync as {role}"), &world, caller, &pulled.to_string());
        let outside = world.made.iter().filter(|(kind, pos, _)| {
            !matches!(kind, Kind::User | Kind::Unit) || (caller != Role::Admin && *pos == Pos::OtherBranch)
        });
        let directory = serde_json::to_string(&directory).unwrap();
        for (_, _, id) in outside {
            if directory.contains(id.as_str()) {
                findings.0.push(format!("GET /api/v1/sync as {role}: the directory names {id}"));
            }
        }
        // A sync pull, every page: the caller's scope only.
        let mut cursor = String::new();
        for _ in 0..50 {
            let path = format!("/api/v1/sync/pull?limit=500{cursor}");
            let (status, body) = send(&app, Method::GET, &path, &token, Body::None).await;
            findings.status(format!("GET /api/v1/sync/pull as {role}"), 200, status, &body);
            findings.leaks(&format!("GET /api/v1/sync/pull as {role}"), &world, caller, &body);
            let page: Value = serde_json::from_str(&body).unwrap_or_default();
            if page["has_more"] != true {
                break;
            }
            cursor = format!("&cursor={}", page["cursor"].as_str().unwrap_or_default());
        }
        // Reports of a unit: 404 outside the caller's subtree.
        for pos in POSITIONS.into_iter().filter(|p| *p != Pos::Own) {
            let path = format!("/api/v1/reports/daily?org_unit_id={}", world.units[&pos]);
            let expected = if visible(Kind::Unit, caller, pos) { 200 } else { 404 };
            let (status, body) = send(&app, Method::GET, &path, &token, Body::None).await;
            findings.status(format!("GET reports/daily of {pos:?} as {role}"), expected, status, &body);
            findings.leaks(&format!("GET reports/daily of {pos:?} as {role}"), &world, caller, &body);
        }
    }

    // Creating things that point into each position.
    for caller in CALLERS {
        let token = world.callers[&caller].token.clone();
        let role = caller.as_str();
        let manager = caller.manages_people();
        for pos in POSITIONS {
            let partner = &shared[&(Kind::Partner, pos)].id;
            let at = (Utc::now() - Duration::minutes(5)).to_rfc3339_opts(SecondsFormat::Secs, true);
            let seen = visible(Kind::Partner, caller, pos);
            let writes = caller != Role::Supervisor;
            let cases: Vec<(&str, Value, u16)> = vec![
                (
                    "/api/v1/visits",
                    json!({"partner_id": partner, "location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10}, "visited_at": at, "purpose": "relationship"}),
                    if !writes {
                        403
                    } else if seen {
                        201
                    } else {
                        404
                    },
                ),
                (
                    "/api/v1/events",
                    json!({"partner_id": partner, "title": "健康讲座", "theme": "health", "venue": "活动室", "capacity": 20,
                           "starts_at": (Utc::now() + Duration::days(3)).to_rfc3339(), "ends_at": (Utc::now() + Duration::days(3) + Duration::hours(2)).to_rfc3339()}),
                    if !writes {
                        403
                    } else if seen {
                        201
                    } else {
                        404
                    },
                ),
                (
                    "/api/v1/leads",
                    // An admin belongs to no unit, so names the lead's owner.
                    json!({"kind": "person", "name": "赵女士", "phone": unique_phone(), "source": "walk_in", "partner_id": partner,
                           "owner_id": (caller == Role::Admin).then_some(world.owners[&pos].id)}),
                    if !writes {
                        403
                    } else if seen {
                        201
                    } else {
                        404
                    },
                ),
                (
                    "/api/v1/partners",
                    json!({"name": "分派的店", "category": "other", "location": {"lat": CENTRE.0, "lon": CENTRE.1}, "owner_id": world.owners[&pos].id}),
                    // An account manager may never assign another owner: 403 whoever it names, so
                    // the answer says nothing about that person.
                    if !writes || (caller == Role::AccountManager && pos != Pos::Own) {
                        403
                    } else if !visible(Kind::User, caller, pos) {
                        404
                    } else {
                        201
                    },
                ),
                (
                    "/api/v1/projects",
                    json!({"name": "新项目", "segment": "existing", "starts_on": crate::projects::day(0), "ends_on": crate::projects::day(20),
                           "org_unit_id": world.units[&pos], "lead_id": world.owners[&pos].id}),
                    if !manager {
                        403
                    } else if in_subtree(caller, pos) {
                        201
                    } else {
                        404
                    },
                ),
                (
                    "/api/v1/users",
                    json!({"phone": unique_phone(), "name": "新同事", "role": "account_manager", "org_unit_id": world.units[&pos], "password": "a long enough password"}),
                    if !manager {
                        403
                    } else if in_subtree(caller, pos) {
                        201
                    } else {
                        404
                    },
                ),
                (
                    "/api/v1/org-units",
                    json!({"name": format!("新网点 {}", Uuid::new_v4()), "kind": "outlet", "parent_id": sub_branch(&app, pos)}),
                    if !manager {
                        403
                    } else if caller == Role::Admin
                        || (caller == Role::BranchManager && pos != Pos::OtherBranch)
                        || (caller == Role::SubBranchManager
                            && matches!(pos, Pos::Own | Pos::SameOutlet | Pos::SameSub))
                    {
                        201
                    } else {
                        404
                    },
                ),
            ];
            for (path, body, expected) in cases {
                let (status, answer) = send(&app, Method::POST, path, &token, Body::Json(body)).await;
                findings.status(format!("POST {path} as {role} into {pos:?}"), expected, status, &answer);
                findings.leaks(&format!("POST {path} as {role} into {pos:?}"), &world, caller, &answer);
            }
            // A phone pushing an edit of a partner it may not see learns nothing about it.
            // A phone pushing an edit of a partner it may not see learns nothing about it: the
            // answer is the one for an id that does not exist.
            let push = |id: &str| json!({"changes": {"partners": {"updated": [{"id": id, "name": "偷改", "category": "other", "location": {"lat": CENTRE.0, "lon": CENTRE.1}, "version": 1}]}}});
            let (status, answer) =
                send(&app, Method::POST, "/api/v1/sync/push", &token, Body::Json(push(partner))).await;
            findings.status(format!("POST /api/v1/sync/push as {role} onto {pos:?}"), 200, status, &answer);
            if !seen {
                let nobody = Uuid::new_v4().to_string();
                let (_, unknown) =
                    send(&app, Method::POST, "/api/v1/sync/push", &token, Body::Json(push(&nobody))).await;
                if answer.replace(partner.as_str(), "ID") != unknown.replace(&nobody, "ID") {
                    findings.0.push(format!(
                        "sync push as {role} onto {pos:?} differs from an unknown id: {answer} vs {unknown}"
                    ));
                }
            }
        }
    }
    assert!(findings.0.is_empty(), "{} findings:\n{}", findings.0.len(), findings.0.join("\n"));
}
