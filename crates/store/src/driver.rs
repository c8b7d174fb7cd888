//! The driver-error policy: which database errors a caller may retry, and which mean a link
//! was used twice. Both backends map every `sqlx` error through [`from_sqlx`].

use crate::StoreError;

/// Maps a driver error to a [`StoreError`]: connection trouble is `Unavailable` (retryable, a
/// 503 at the edge), everything else `Other`.
pub fn from_sqlx(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(Box::new(error)),
        sqlx::Error::Database(ref db) if db.code().is_some_and(|code| is_transient(&code)) => {
            StoreError::Unavailable(Box::new(error))
        }
        other => StoreError::Other(Box::new(other)),
    }
}

/// Whether a database error code means "try again shortly" rather than a bug: PostgreSQL's
/// connection exceptions (class 08), insufficient resources (53: too many connections, disk
/// full), operator intervention (57: shutting down, starting up, restarting — what a restart
/// answers) and serialization failures and deadlocks (40001, 40P01); SQLite's BUSY and LOCKED
/// with their extended codes.
fn is_transient(code: &str) -> bool {
    // PostgreSQL's SQLSTATEs are always five characters; SQLite's (extended) result codes are
    // numbers of at most four digits, whose low byte is the primary code. Telling them apart by
    // length keeps a SQLSTATE such as 22021 (whose low byte as a number is 5) from passing for
    // SQLite's BUSY.
    if code.len() == 5 {
        code.starts_with("08")
            || code.starts_with("53")
            || code.starts_with("57")
            || code == "40001"
            || code == "40P01"
    } else {
        code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
    }
}

/// Whether `error` is a unique-constraint violation (e.g. a link consumed twice).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}

/// Maps the error of the `INSERT` that consumes a link: a unique violation means the link
/// already completed a flow ([`StoreError::LinkAlreadyUsed`]).
pub fn from_consume_error(error: sqlx::Error) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::LinkAlreadyUsed
    } else {
        from_sqlx(error)
    }
}

#[cfg(test)]
mod tests {
    use super::is_transient;

    #[test]
    fn restarts_and_busy_databases_are_transient_and_bugs_are_not() {
        for code in [
            "57P01", "57P03", "08006", "53300", "40001", "40P01", "5", "517", "6",
        ] {
            assert!(is_transient(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02", "22021", "19", "2067", "1"] {
            assert!(!is_transient(code), "{code}");
        }
    }
}
