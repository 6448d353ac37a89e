use std::sync::Arc;

/// What went wrong in storage. Cloneable, because one group commit answers
/// many callers with the same outcome.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule or a concurrent change refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A referenced record does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database is not set up as wangge requires (pragmas, URL).
    #[error("database configuration: {0}")]
    Config(String),
    /// A stored value fails its domain check: data was changed behind our back.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database refused or failed the operation.
    #[error("database error: {0}")]
    Database(Arc<str>),
    /// The storage worker has stopped (the server is shutting down).
    #[error("storage is shut down")]
    Closed,
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, msg) = &e
            && f.code == rusqlite::ErrorCode::ConstraintViolation
        {
            return StoreError::Conflict(msg.clone().unwrap_or_else(|| e.to_string()));
        }
        StoreError::Database(e.to_string().into())
    }
}

impl From<rusqlite_migration::Error> for StoreError {
    fn from(e: rusqlite_migration::Error) -> Self {
        StoreError::Database(format!("migration failed: {e}").into())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && (db.is_unique_violation()
                || db.is_foreign_key_violation()
                || db.is_check_violation())
        {
            return StoreError::Conflict(db.message().to_owned());
        }
        StoreError::Database(e.to_string().into())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(format!("migration failed: {e}").into())
    }
}
