//! A pushed record's values, read column by column with the declared type: what a table's writer
//! gets. Only the columns the push applies are there (a create: every column the phone writes;
//! an update: those it changed, that differ from the server's copy); the others read as absent.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::{ColumnSpec, ColumnType, Row, View};
use crate::domain::DomainError;
use crate::geo::LatLon;

pub struct Pushed<'a> {
    row: &'a Row,
    applied: BTreeSet<&'static str>,
    view: &'a View,
}

type Read<T> = Result<Option<T>, DomainError>;

impl<'a> Pushed<'a> {
    /// The columns of `applied` in `row`, each checked against its declared type first.
    pub fn new(row: &'a Row, applied: &[ColumnSpec], view: &'a View) -> Result<Pushed<'a>, DomainError> {
        for c in applied {
            let value = row.get(c.name).unwrap_or(&Value::Null);
            let fits = matches!(
                (c.kind, value),
                (_, Value::Null)
                    | (ColumnType::String, Value::String(_))
                    | (ColumnType::Number, Value::Number(_))
                    | (ColumnType::Boolean, Value::Bool(_))
            );
            if !fits {
                let kind = match c.kind {
                    ColumnType::String => "a string",
                    ColumnType::Number => "a number",
                    ColumnType::Boolean => "a boolean",
                };
                return Err(DomainError::invalid(c.name, format!("must be {kind}")));
            }
        }
        Ok(Pushed { row, applied: applied.iter().map(|c| c.name).collect(), view })
    }

    pub fn has(&self, name: &str) -> bool {
        self.applied.contains(name)
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.has(name).then(|| self.row.get(name).unwrap_or(&Value::Null))
    }

    /// A string column; null reads as empty.
    pub fn text(&self, name: &str) -> Read<String> {
        Ok(self.value(name).map(|v| v.as_str().unwrap_or_default().to_owned()))
    }

    /// An optional string column: empty or null is `Some(None)` (cleared).
    pub fn opt_text(&self, name: &str) -> Read<Option<String>> {
        Ok(self.value(name).map(|v| v.as_str().filter(|s| !s.trim().is_empty()).map(str::to_owned)))
    }

    pub fn opt_number(&self, name: &str) -> Read<Option<f64>> {
        Ok(self.value(name).map(Value::as_f64))
    }

    pub fn number(&self, name: &str) -> Read<f64> {
        self.opt_number(name)?.map(|n| n.ok_or_else(|| DomainError::invalid(name, "is required"))).transpose()
    }

    pub fn opt_int(&self, name: &str) -> Read<Option<i64>> {
        self.opt_number(name)?
            .map(|n| match n {
                Some(n) if n.fract() != 0.0 || n.abs() > 9.0e15 => {
                    Err(DomainError::invalid(name, "must be a whole number"))
                }
                #[allow(clippy::cast_possible_truncation)]
                n => Ok(n.map(|n| n as i64)),
            })
            .transpose()
    }

    pub fn int<T: TryFrom<i64>>(&self, name: &str) -> Read<T> {
        self.opt_int(name)?
            .map(|n| n.and_then(|n| T::try_from(n).ok()).ok_or_else(|| DomainError::invalid(name, "is out of range")))
            .transpose()
    }

    pub fn opt_boolean(&self, name: &str) -> Read<Option<bool>> {
        Ok(self.value(name).map(Value::as_bool))
    }

    /// A time in epoch milliseconds.
    pub fn opt_time(&self, name: &str) -> Read<Option<DateTime<Utc>>> {
        self.opt_int(name)?
            .map(|ms| {
                ms.map(|ms| {
                    DateTime::from_timestamp_millis(ms).ok_or_else(|| DomainError::invalid(name, "is not a time"))
                })
                .transpose()
            })
            .transpose()
    }

    pub fn time(&self, name: &str) -> Read<DateTime<Utc>> {
        self.opt_time(name)?.map(|t| t.ok_or_else(|| DomainError::invalid(name, "is required"))).transpose()
    }

    /// An id column; empty or null is `Some(None)`.
    pub fn opt_id(&self, name: &str) -> Read<Option<Uuid>> {
        self.opt_text(name)?
            .map(|t| {
                t.map(|t| Uuid::parse_str(t.trim()).map_err(|_| DomainError::invalid(name, "is not a UUID")))
                    .transpose()
            })
            .transpose()
    }

    pub fn id(&self, name: &str) -> Read<Uuid> {
        self.opt_id(name)?.map(|t| t.ok_or_else(|| DomainError::invalid(name, "is required"))).transpose()
    }

    /// One of a vocabulary (`text_enum!`), by its code.
    pub fn opt_code<T: FromStr>(&self, name: &str) -> Read<Option<T>> {
        self.opt_text(name)?
            .map(|t| {
                t.map(|t| T::from_str(t.trim()).map_err(|_| DomainError::invalid(name, format!("unknown value {t:?}"))))
                    .transpose()
            })
            .transpose()
    }

    pub fn code<T: FromStr>(&self, name: &str) -> Read<T> {
        self.opt_code(name)?.map(|t| t.ok_or_else(|| DomainError::invalid(name, "is required"))).transpose()
    }

    /// A JSON-string column (a list or an object); empty reads as the type's default.
    pub fn json<T: DeserializeOwned + Default>(&self, name: &str) -> Read<T> {
        self.text(name)?
            .map(|t| {
                if t.trim().is_empty() {
                    return Ok(T::default());
                }
                serde_json::from_str(&t)
                    .map_err(|e| DomainError::invalid(name, format!("is not the JSON expected: {e}")))
            })
            .transpose()
    }

    /// A position from its `lat` and `lon` columns, in the caller's datum: present when either
    /// is applied (a move changes one or both), then read from both, checked and made WGS-84.
    pub fn position(&self, lat: &str, lon: &str) -> Read<LatLon> {
        if !self.has(lat) && !self.has(lon) {
            return Ok(None);
        }
        let coordinate = |name: &str| {
            self.row.get(name).and_then(Value::as_f64).ok_or_else(|| DomainError::invalid(name, "is required"))
        };
        let p = LatLon { lat: coordinate(lat)?, lon: coordinate(lon)? }
            .validated()
            .map_err(|e| DomainError::invalid(lat, e.to_string()))?;
        Ok(Some(self.view.datum.to_wgs84(p)))
    }
}
