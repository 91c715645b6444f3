//! Users in SQLite, every query measured with `#[monitor_db_operation]`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use mcp_monitor::{monitor_db_operation, CacheMonitor, MonitoredError};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

/// Most users returned by [`UserService::list_users`].
pub const LIST_LIMIT: i64 = 100;

/// Users kept by the lookup cache.
pub const CACHE_CAPACITY: usize = 1024;

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct User {
    /// Assigned by the database.
    pub id: i64,
    /// As given, trimmed.
    pub name: String,
    /// As given, trimmed; unique, ignoring case.
    pub email: String,
    /// When the user was created, RFC 3339 in UTC.
    pub created_at: String,
}

/// A user to create (already validated by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The user's name.
    pub name: String,
    /// The user's email address.
    pub email: String,
}

/// What a database operation of [`UserService`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Another user has this email address.
    #[error("a user with email {0:?} already exists")]
    EmailTaken(String),
    /// Anything else SQLite or the pool reported.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
}

/// A taken e-mail address is the client's mistake (the insert did its job and the
/// client gets a 409), not a failure of the database: counted as `success`, so that
/// duplicate sign-ups never fire `HIGH_ERROR_RATE` for the database.
impl MonitoredError for DbError {
    fn is_failure(&self) -> bool {
        !matches!(self, DbError::EmailTaken(_))
    }
}

/// The result of a database operation. The monitor consults [`MonitoredError`] through
/// this alias as through `Result` itself.
pub type DbResult<T> = Result<T, DbError>;

/// Creates the schema.
pub(crate) async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        )",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Reads and writes users; lookups by id go through a cache.
#[derive(Debug)]
pub struct UserService {
    pool: SqlitePool,
    cache: Mutex<HashMap<i64, User>>,
    cache_monitor: CacheMonitor,
}

impl UserService {
    /// A service on `pool` (whose schema exists), reporting its cache to `cache_monitor`.
    pub fn new(pool: SqlitePool, cache_monitor: CacheMonitor) -> Self {
        Self {
            pool,
            cache: Mutex::default(),
            cache_monitor,
        }
    }

    /// The user with id `id`, from the cache if it is there (a hit), from the database
    /// through [`get_user`](Self::get_user) otherwise (a miss). Users are never changed
    /// once created, so a cached user never goes stale; absent users are not cached.
    ///
    /// # Errors
    ///
    /// Those of [`get_user`](Self::get_user).
    pub async fn find_user(&self, id: i64) -> DbResult<Option<User>> {
        let cached = self.lock_cache().get(&id).cloned();
        if let Some(user) = cached {
            self.cache_monitor.hit();
            return Ok(Some(user));
        }
        self.cache_monitor.miss();
        let user = self.get_user(id).await?;
        if let Some(u) = &user {
            let mut cache = self.lock_cache();
            if cache.len() >= CACHE_CAPACITY {
                // Not an LRU: the demo only needs the cache to stay bounded.
                if let Some(evicted) = cache.keys().next().copied() {
                    cache.remove(&evicted);
                }
            }
            cache.insert(u.id, u.clone());
        }
        Ok(user)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<i64, User>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The user with id `id` from the database; `Ok(None)` when there is none (a
    /// successful query that found nothing).
    ///
    /// # Errors
    ///
    /// [`DbError::Sqlx`] when the query fails.
    #[monitor_db_operation("select", "users")]
    pub async fn get_user(&self, id: i64) -> DbResult<Option<User>> {
        let user =
            sqlx::query_as::<_, User>("SELECT id, name, email, created_at FROM users WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(user)
    }

    /// Stores a new user.
    ///
    /// # Errors
    ///
    /// [`DbError::EmailTaken`] when another user has the email address (ignoring case);
    /// [`DbError::Sqlx`] when the query fails otherwise.
    #[monitor_db_operation("insert", "users")]
    pub async fn create_user(&self, new: &NewUser) -> DbResult<User> {
        let inserted = sqlx::query_as::<_, User>(
            "INSERT INTO users (name, email) VALUES (?, ?)
             RETURNING id, name, email, created_at",
        )
        .bind(&new.name)
        .bind(&new.email)
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok(user) => Ok(user),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(DbError::EmailTaken(new.email.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The first [`LIST_LIMIT`] users, by id.
    ///
    /// # Errors
    ///
    /// [`DbError::Sqlx`] when the query fails.
    #[monitor_db_operation("select", "users")]
    pub async fn list_users(&self) -> DbResult<Vec<User>> {
        let users = sqlx::query_as::<_, User>(
            "SELECT id, name, email, created_at FROM users ORDER BY id LIMIT ?",
        )
        .bind(LIST_LIMIT)
        .fetch_all(&self.pool)
        .await?;
        Ok(users)
    }
}
