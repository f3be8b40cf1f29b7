//! `sync_rejections`: why a change pushed from your phone was not taken, for the app to show.
//! Each names the record and carries the problem's stable `code`, a message in Chinese and the
//! API's detail; the app dismisses one by deleting it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::sync::declare::entity::Table;
use crate::domain::sync::declare::{Column, millis, opt_text, text};
use crate::domain::{DomainError, ErrorCode};
use crate::store::sync_replies::{self as store, RejectionRow};
use crate::store::{StoreError, uuid_col};

pub struct Rejection {
    pub id: Uuid,
    pub user_id: Uuid,
    pub table_name: String,
    pub record_id: String,
    pub code: String,
    pub message: String,
    pub detail: String,
    pub existing_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<RejectionRow> for Rejection {
    type Error = StoreError;
    fn try_from(r: RejectionRow) -> Result<Self, StoreError> {
        Ok(Rejection {
            id: uuid_col(&r.id)?,
            user_id: uuid_col(&r.user_id)?,
            table_name: r.table_name,
            record_id: r.record_id,
            code: r.code,
            message: r.message,
            detail: r.detail,
            existing_id: r.existing_id,
            created_at: r.created_at.and_utc(),
        })
    }
}

type C = Column<Rejection>;

pub static REJECTIONS: Table<Rejection> = Table {
    name: "sync_rejections",
    since: 1,
    scope: "your own: the changes your phone pushed that the server did not take, and why",
    columns: &[
        C::string("table_name", |r, _| text(&r.table_name)),
        C::string("record_id", |r, _| text(&r.record_id)).indexed(),
        C::string("code", |r, _| text(&r.code)),
        C::string("message", |r, _| text(&r.message)),
        C::string("detail", |r, _| text(&r.detail)),
        // The record a refused duplicate would have been, when you may read it.
        C::string("existing_id", |r, _| opt_text(r.existing_id.as_deref())).optional(),
        C::number("created_at", |r, _| millis(r.created_at)),
        C::number("updated_at", |r, _| millis(r.created_at)),
    ],
    id: |r| r.id.to_string(),
    changed: |conn, view, after, upto| {
        let rows = store::rejections_since(conn, &view.actor.user_id.to_string(), after, upto)?;
        Ok(rows.into_iter().filter(|r| r.deleted_at.is_none()).map(Rejection::try_from).collect::<Result<_, _>>()?)
    },
    get: |conn, view, id| {
        let row = store::find_rejection(conn, &id.to_string())?
            .filter(|r| r.deleted_at.is_none() && r.user_id == view.actor.user_id.to_string())
            .ok_or(DomainError::NotFound("sync rejection"))?;
        Ok(Rejection::try_from(row)?)
    },
    deleted: Some(|conn, view, after, upto| {
        let rows = store::rejections_since(conn, &view.actor.user_id.to_string(), after, upto)?;
        Ok(rows.into_iter().filter(|r| r.deleted_at.is_some()).map(|r| r.id).collect())
    }),
    create: None,
    update: None,
    delete: Some(|conn, view, id| {
        let key = id.to_string();
        conn.write_tx(|conn| match store::find_rejection(conn, &key)? {
            Some(r) if r.user_id == view.actor.user_id.to_string() && r.deleted_at.is_none() => {
                store::dismiss_rejection(conn, &key)?;
                Ok(())
            }
            _ => Err(DomainError::NotFound("sync rejection")),
        })
    }),
};

/// What the app shows for a refusal, in Chinese, by the kind of refusal; the stable `code` says
/// exactly which.
pub fn message_zh(error: &DomainError) -> String {
    match error {
        DomainError::NotFound(_) => "记录不存在，或不在您的权限范围内".to_owned(),
        DomainError::Forbidden { code: ErrorCode::RoleNotAllowed, .. } => "您的角色不能做此修改".to_owned(),
        DomainError::Forbidden { .. } => "您无权修改这条记录".to_owned(),
        DomainError::Conflict { code: ErrorCode::InvalidTransition, .. } => "状态不能这样变更".to_owned(),
        DomainError::Conflict { code: ErrorCode::StepOutOfOrder, .. } => "请先完成前面的步骤".to_owned(),
        DomainError::Conflict { code: ErrorCode::EventCancelled, .. } => "活动已取消".to_owned(),
        DomainError::Conflict { code: ErrorCode::Waitlisted, .. } => "该报名在候补名单中，不能签到".to_owned(),
        DomainError::Conflict { code: ErrorCode::RegistrationCancelled, .. } => "该报名已取消，不能签到".to_owned(),
        DomainError::Conflict { .. } => "与服务器上的数据冲突，已恢复为服务器上的版本".to_owned(),
        DomainError::Duplicate { code: ErrorCode::DuplicateLead, .. } => "该手机号已是本行的线索".to_owned(),
        DomainError::Duplicate { .. } => "已存在相同的记录".to_owned(),
        DomainError::Gone { code: ErrorCode::AttendeeErased, .. } => "参加者已撤回个人信息，不能签到".to_owned(),
        DomainError::Gone { .. } => "已关闭，不能再修改".to_owned(),
        DomainError::Validation(fields) => {
            let names: Vec<&str> = fields.keys().map(String::as_str).collect();
            format!("内容不符合要求（{}）", names.join("、"))
        }
        DomainError::Store(_) => "服务器暂时无法保存，请稍后再同步".to_owned(),
    }
}

/// The API's detail: the message, and for invalid fields what is wrong with each.
pub fn detail_of(error: &DomainError) -> String {
    match error {
        DomainError::Validation(fields) => {
            fields.iter().map(|(field, problem)| format!("{field}: {problem}")).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}
