use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Everything the store can fail with. Constraint violations are kept apart because the domain
/// turns them into conflicts; the rest is infrastructure trouble.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    #[error("foreign key violated: {0}")]
    ForeignKeyViolation(String),
    #[error("database error: {0}")]
    Query(#[source] DieselError),
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("stored value cannot be read back: {0}")]
    Corrupt(String),
    #[error("not available on this database: {0}")]
    Unsupported(&'static str),
    #[error("blocking pool is gone")]
    Canceled,
    #[error("every database connection stayed busy for {0:?}")]
    Saturated(std::time::Duration),
}

/// A JSON column read back into its type; a column that does not parse is corrupt.
pub fn json_col<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::UniqueViolation(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                StoreError::ForeignKeyViolation(info.message().to_owned())
            }
            other => StoreError::Query(other),
        }
    }
}

/// Parses a UUID column; a malformed one is data corruption, not a client error.
pub fn uuid_col(value: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(value).map_err(|_| StoreError::Corrupt(format!("bad uuid `{value}`")))
}

/// Parses a text enum column.
pub fn enum_col<T: std::str::FromStr>(value: &str) -> Result<T, StoreError> {
    value.parse().map_err(|_| StoreError::Corrupt(format!("unknown value `{value}`")))
}
