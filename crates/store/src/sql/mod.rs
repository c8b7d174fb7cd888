//! Statements both backends run as they are, each written once with its binds.
//!
//! The rule: a statement that reads the same on SQLite and PostgreSQL lives here, in the file of
//! its area, as a function generic over the database that returns the query with its values
//! bound; the backend executes it on its own pool or transaction and maps the rows. Both
//! dialects accept `$n` placeholders (SQLite reads `$1` as the first value) and `TRUE`/`FALSE`,
//! and PostgreSQL takes each parameter's type from the value bound to it, so `$1 IS NULL` needs
//! no cast. A statement that differs stays in its backend's area file, with a comment saying
//! why.
//!
//! ```text
//! // crates/store/src/sql/api_keys.rs
//! statements! {
//!     /// Revokes an unrevoked key.
//!     fn revoke<'q>(id: &'q str, now: DateTime<Utc>) -> Query {
//!         sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
//!             .bind(to_millis(now))
//!             .bind(id)
//!     }
//! }
//! // crates/store-sqlite/src/api_keys.rs
//! let done = sql::api_keys::revoke(id, now).execute(&self.write).await.map_err(from_sqlx)?;
//! ```

/// Declares shared statements: each `fn name<'q>(…) -> Query` or `-> QueryAs<Row>` becomes a
/// public function generic over `DB`, bounded by every value type Plugboard binds (`&str`,
/// bytes, `i64`, `bool`, `String` and their `Option`s), so one body serves both backends. Both
/// cache prepared statements, so a statement may opt out of the cache (`persistent(false)`).
macro_rules! statements {
    ($(
        $(#[$meta:meta])*
        fn $name:ident<$q:lifetime>($($arg:ident: $ty:ty),* $(,)?) -> $kind:ident $(<$row:ty>)?
        $body:block
    )*) => {$(
        $(#[$meta])*
        pub fn $name<$q, DB>($($arg: $ty),*) -> statements!(@out $q DB $kind $($row)?)
        where
            DB: sqlx::Database + sqlx::database::HasStatementCache,
            for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            for<'a> Option<&'a str>: sqlx::Encode<'a, DB>,
            for<'a> &'a [u8]: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            for<'a> Option<&'a [u8]>: sqlx::Encode<'a, DB>,
            for<'a> String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            for<'a> Option<String>: sqlx::Encode<'a, DB>,
            for<'a> i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            for<'a> Option<i64>: sqlx::Encode<'a, DB>,
            for<'a> bool: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
            for<'a> Option<bool>: sqlx::Encode<'a, DB>,
            $($row: for<'r> sqlx::FromRow<'r, DB::Row>,)?
        $body
    )*};
    (@out $q:lifetime $db:ident Query) => {
        sqlx::query::Query<$q, $db, <$db as sqlx::Database>::Arguments<$q>>
    };
    (@out $q:lifetime $db:ident QueryAs $row:ty) => {
        sqlx::query::QueryAs<$q, $db, $row, <$db as sqlx::Database>::Arguments<$q>>
    };
}

/// A statement text built once from column lists (`format!` syntax), as a `&'static str`.
macro_rules! text {
    ($($format:tt)+) => {{
        static TEXT: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| format!($($format)+));
        TEXT.as_str()
    }};
}

pub mod api_keys;
pub mod audit;
pub mod events;
pub mod integrations;
pub mod links;
pub mod oauth;
pub mod operators;
pub mod request_log;
pub mod sealing;
pub mod setup;
pub mod webhooks;
