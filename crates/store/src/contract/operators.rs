//! Contract of [`crate::Operators`]: accounts unique by e-mail address, one-time sign-in
//! tokens, the failure count, sessions with an absolute and an idle timeout, and the
//! transactions that disable, reset and prune.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::millis_now;
use crate::{Operator, OperatorRole, OperatorSession, SigninToken, Store, ids};

/// How long the fixtures' tokens and sessions last.
const TOKEN_TTL: Duration = Duration::hours(24);
const SESSION_TTL: Duration = Duration::hours(12);

fn new_operator(email: &str, role: OperatorRole) -> Operator {
    Operator {
        id: format!("op_{}", ids::new_id()),
        email: email.into(),
        role,
        password_hash: None,
        created_at: millis_now(),
        disabled_at: None,
        failed_signins: 0,
        last_failed_signin_at: None,
        last_signed_in_at: None,
    }
}

fn new_token(operator_id: &str, issued: DateTime<Utc>) -> SigninToken {
    SigninToken {
        hash: format!("token {}", ids::new_id()).into_bytes(),
        operator_id: operator_id.into(),
        created_at: issued,
        expires_at: issued + TOKEN_TTL,
    }
}

fn new_session(operator_id: &str, started: DateTime<Utc>) -> OperatorSession {
    OperatorSession {
        id_hash: format!("session {}", ids::new_id()).into_bytes(),
        operator_id: operator_id.into(),
        created_at: started,
        last_seen_at: started,
        expires_at: started + SESSION_TTL,
        ip: Some("203.0.113.7".into()),
        user_agent: Some("Mozilla/5.0".into()),
    }
}

/// Stores an admin with this address and its first sign-in token, issued now.
async fn created(store: &dyn Store, email: &str) -> (Operator, SigninToken) {
    let operator = new_operator(email, OperatorRole::Admin);
    let token = new_token(&operator.id, millis_now());
    assert!(
        store
            .insert_operator(&operator, &token)
            .await
            .expect("insert")
    );
    (operator, token)
}

/// Whether the session is accepted now with an idle cutoff an hour back.
async fn accepted(store: &dyn Store, session: &OperatorSession) -> bool {
    let now = millis_now();
    store
        .operator_session(&session.id_hash, now, now - Duration::hours(1))
        .await
        .expect("session")
        .is_some()
}

/// Operators are stored with their first token, found by id and by e-mail address and
/// listed by address; a second operator with a taken address is refused and writes nothing,
/// not even its token.
pub async fn operators_are_unique_by_email(store: Arc<dyn Store>) {
    let (zoe, zoe_token) = created(&*store, "zoe@acme.example").await;
    let mut adam = new_operator("adam@acme.example", OperatorRole::Viewer);
    adam.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    let adam_token = new_token(&adam.id, millis_now());
    assert!(
        store
            .insert_operator(&adam, &adam_token)
            .await
            .expect("insert")
    );

    assert_eq!(
        store.operator(&zoe.id).await.expect("get"),
        Some(zoe.clone())
    );
    assert_eq!(
        store
            .operator_by_email("adam@acme.example")
            .await
            .expect("get"),
        Some(adam.clone()),
        "every field comes back"
    );
    assert_eq!(store.operator("op_unknown").await.expect("get"), None);
    assert_eq!(
        store
            .operator_by_email("eve@acme.example")
            .await
            .expect("get"),
        None
    );
    assert!(
        store
            .signin_token_operator(&zoe_token.hash, millis_now())
            .await
            .expect("valid")
            .is_some()
    );

    let twin = new_operator("zoe@acme.example", OperatorRole::Viewer);
    let twin_token = new_token(&twin.id, millis_now());
    assert!(
        !store
            .insert_operator(&twin, &twin_token)
            .await
            .expect("insert twice"),
        "the address is taken"
    );
    assert_eq!(store.operator(&twin.id).await.expect("get"), None);
    assert!(
        store
            .signin_token_operator(&twin_token.hash, millis_now())
            .await
            .expect("valid")
            .is_none(),
        "the refused operator's token was not stored"
    );
    assert_eq!(
        store
            .operator_by_email("zoe@acme.example")
            .await
            .expect("get"),
        Some(zoe.clone()),
        "the first operator is untouched"
    );

    let (mia, _) = created(&*store, "mia@acme.example").await;
    assert_eq!(
        store.list_operators().await.expect("list"),
        vec![adam, mia, zoe],
        "by e-mail address"
    );
}

/// A sign-in token is valid until it expires, and checking it does not use it up.
pub async fn signin_tokens_are_valid_until_they_expire(store: Arc<dyn Store>) {
    let (_, token) = created(&*store, "ops@acme.example").await;
    let before = token.expires_at - Duration::milliseconds(1);
    for _ in 0..2 {
        assert!(
            store
                .signin_token_operator(&token.hash, before)
                .await
                .expect("valid")
                .is_some()
        );
    }
    assert!(
        store
            .signin_token_operator(&token.hash, token.expires_at)
            .await
            .expect("valid")
            .is_none(),
        "expired at its expiry"
    );
    assert!(
        store
            .signin_token_operator(b"unknown", millis_now())
            .await
            .expect("valid")
            .is_none()
    );
}

/// Redeeming a token sets the password, clears the failures, ends the operator's other
/// sessions and starts the given one, and works once.
pub async fn signin_tokens_are_redeemed_once(store: Arc<dyn Store>) {
    let (operator, token) = created(&*store, "ops@acme.example").await;
    let (other, _) = created(&*store, "other@acme.example").await;
    let now = millis_now();
    let old = new_session(&operator.id, now);
    store.start_operator_session(&old).await.expect("start");
    let others = new_session(&other.id, now);
    store.start_operator_session(&others).await.expect("start");
    for _ in 0..2 {
        store
            .record_signin_failure(&operator.id, now, now - Duration::days(1))
            .await
            .expect("failure");
    }

    let new = new_session(&operator.id, now);
    let redeemed = store
        .redeem_signin_token(&token.hash, "$argon2id$first", &new, now)
        .await
        .expect("redeem")
        .expect("a valid token redeems");
    assert_eq!(redeemed.id, operator.id);
    assert_eq!(redeemed.password_hash.as_deref(), Some("$argon2id$first"));
    assert_eq!(
        (redeemed.failed_signins, redeemed.last_failed_signin_at),
        (0, None)
    );
    assert_eq!(
        store.operator(&operator.id).await.expect("get"),
        Some(redeemed.clone()),
        "the operator as changed"
    );
    assert!(!accepted(&*store, &old).await, "other sessions end");
    let (found, by) = store
        .operator_session(&new.id_hash, now, now)
        .await
        .expect("session")
        .expect("the new session started");
    assert_eq!((found, by), (new.clone(), redeemed.clone()));
    assert!(
        accepted(&*store, &others).await,
        "another operator's sessions stay"
    );
    assert!(
        store
            .signin_token_operator(&token.hash, now)
            .await
            .expect("valid")
            .is_none()
    );

    let again = new_session(&operator.id, now);
    assert_eq!(
        store
            .redeem_signin_token(&token.hash, "$argon2id$second", &again, now)
            .await
            .expect("redeem twice"),
        None,
        "a token works once"
    );
    assert!(!accepted(&*store, &again).await, "no session started");
    assert!(accepted(&*store, &new).await, "the first session stays");
    assert_eq!(
        store.operator(&operator.id).await.expect("get"),
        Some(redeemed),
        "the password stays"
    );
}

/// Of many concurrent redemptions of one token, exactly one succeeds and starts its session.
pub async fn concurrent_signin_redemptions_succeed_once(store: Arc<dyn Store>) {
    let (operator, token) = created(&*store, "ops@acme.example").await;
    let now = millis_now();
    let sessions: Vec<_> = (0..8).map(|_| new_session(&operator.id, now)).collect();
    let tasks: Vec<_> = sessions
        .iter()
        .map(|session| {
            let (store, hash, session) = (store.clone(), token.hash.clone(), session.clone());
            tokio::spawn(async move {
                store
                    .redeem_signin_token(&hash, "$argon2id$pw", &session, now)
                    .await
                    .expect("redeem")
                    .is_some()
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.expect("task"));
    }
    assert_eq!(won, 1);
    let mut live = 0;
    for session in &sessions {
        live += usize::from(accepted(&*store, session).await);
    }
    assert_eq!(live, 1, "only the winner's session exists");
}

/// Expired tokens and tokens of disabled operators redeem nothing and write nothing.
pub async fn expired_and_disabled_signin_tokens_are_refused(store: Arc<dyn Store>) {
    let (operator, token) = created(&*store, "ops@acme.example").await;
    let late = new_session(&operator.id, token.expires_at);
    assert_eq!(
        store
            .redeem_signin_token(&token.hash, "$argon2id$pw", &late, token.expires_at)
            .await
            .expect("redeem"),
        None,
        "expired at its expiry"
    );
    assert!(!accepted(&*store, &late).await);
    assert_eq!(
        store.operator(&operator.id).await.expect("get"),
        Some(operator.clone()),
        "nothing written"
    );

    // Disabling deletes tokens; a reset afterwards issues one to a disabled operator.
    let now = millis_now();
    assert!(
        store
            .set_operator_disabled(&operator.id, Some(now))
            .await
            .expect("disable")
    );
    let fresh = new_token(&operator.id, now);
    assert!(
        store
            .reset_operator(&operator.id, &fresh)
            .await
            .expect("reset")
    );
    assert!(
        store
            .signin_token_operator(&fresh.hash, now)
            .await
            .expect("valid")
            .is_none(),
        "a disabled operator's token is not offered"
    );
    let refused = new_session(&operator.id, now);
    assert_eq!(
        store
            .redeem_signin_token(&fresh.hash, "$argon2id$pw", &refused, now)
            .await
            .expect("redeem"),
        None,
        "a disabled operator cannot redeem"
    );
    let stored = store
        .operator(&operator.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(stored.password_hash, None, "nothing written");
    assert_eq!(
        store
            .end_operator_sessions(&operator.id)
            .await
            .expect("end all"),
        0,
        "no session started"
    );

    assert!(
        store
            .set_operator_disabled(&operator.id, None)
            .await
            .expect("enable")
    );
    assert!(
        store
            .redeem_signin_token(&fresh.hash, "$argon2id$pw", &refused, now)
            .await
            .expect("redeem")
            .is_some(),
        "the refusal kept the token, which works once the operator is enabled"
    );
}

/// Failed sign-ins count up with the time of the last one; starting a session clears them
/// and records the sign-in.
pub async fn signin_failures_count_until_a_session_starts(store: Arc<dyn Store>) {
    let (operator, _) = created(&*store, "ops@acme.example").await;
    let (other, _) = created(&*store, "other@acme.example").await;
    let start = millis_now();
    for n in 0..3 {
        store
            .record_signin_failure(
                &operator.id,
                start + Duration::seconds(n),
                start - Duration::days(1),
            )
            .await
            .expect("failure");
    }
    let failed = store
        .operator(&operator.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(failed.failed_signins, 3);
    assert_eq!(
        failed.last_failed_signin_at,
        Some(start + Duration::seconds(2))
    );
    assert_eq!(
        store
            .operator(&other.id)
            .await
            .expect("get")
            .expect("kept")
            .failed_signins,
        0,
        "counted per operator"
    );

    let signed_in = new_session(&operator.id, start + Duration::seconds(5));
    store
        .start_operator_session(&signed_in)
        .await
        .expect("start");
    let (found, by) = store
        .operator_session(
            &signed_in.id_hash,
            signed_in.created_at,
            signed_in.created_at,
        )
        .await
        .expect("session")
        .expect("started");
    assert_eq!(found, signed_in);
    assert_eq!(
        (
            by.failed_signins,
            by.last_failed_signin_at,
            by.last_signed_in_at
        ),
        (0, None, Some(signed_in.created_at))
    );
    assert_eq!(store.operator(&operator.id).await.expect("get"), Some(by));
}

/// A session is accepted until its absolute expiry, while it was seen at or after the idle
/// cutoff, and while its operator is enabled; touching it moves its last-seen time.
pub async fn operator_sessions_honour_expiry_idleness_and_disabling(store: Arc<dyn Store>) {
    let (operator, _) = created(&*store, "ops@acme.example").await;
    let start = millis_now();
    let signed_in = new_session(&operator.id, start);
    store
        .start_operator_session(&signed_in)
        .await
        .expect("start");
    let hash = signed_in.id_hash.as_slice();
    let lookup = |now: DateTime<Utc>, idle_since: DateTime<Utc>| {
        let store = store.clone();
        async move {
            store
                .operator_session(hash, now, idle_since)
                .await
                .expect("session")
                .map(|(session, _)| session)
        }
    };

    let expiry = signed_in.expires_at;
    assert!(
        lookup(expiry - Duration::milliseconds(1), start)
            .await
            .is_some()
    );
    assert_eq!(lookup(expiry, start).await, None, "expired at its expiry");
    assert!(lookup(start, start).await.is_some(), "seen at the cutoff");
    assert_eq!(
        lookup(start, start + Duration::milliseconds(1)).await,
        None,
        "idle since before the cutoff"
    );
    assert_eq!(
        store
            .operator_session(b"unknown", start, start)
            .await
            .expect("session"),
        None
    );

    let later = start + Duration::minutes(30);
    store
        .touch_operator_session(hash, later)
        .await
        .expect("touch");
    let touched = lookup(later, later).await.expect("seen when touched");
    assert_eq!(touched.last_seen_at, later);
    assert_eq!(
        (touched.created_at, touched.expires_at),
        (start, expiry),
        "touching moves only the last-seen time"
    );
    assert_eq!(
        lookup(later, expiry).await,
        None,
        "the absolute expiry holds however busy"
    );

    assert!(
        store
            .set_operator_disabled(&operator.id, Some(later))
            .await
            .expect("disable")
    );
    assert_eq!(lookup(later, start).await, None, "a disabled operator");
}

/// Signing out ends one session; ending all of an operator's sessions leaves others' alone.
pub async fn operator_sessions_end_one_or_all(store: Arc<dyn Store>) {
    let (operator, _) = created(&*store, "ops@acme.example").await;
    let (other, _) = created(&*store, "other@acme.example").await;
    let now = millis_now();
    let sessions: Vec<_> = (0..3).map(|_| new_session(&operator.id, now)).collect();
    for session in &sessions {
        store.start_operator_session(session).await.expect("start");
    }
    let others = new_session(&other.id, now);
    store.start_operator_session(&others).await.expect("start");

    assert!(
        store
            .end_operator_session(&sessions[0].id_hash)
            .await
            .expect("end")
    );
    assert!(
        !store
            .end_operator_session(&sessions[0].id_hash)
            .await
            .expect("end twice")
    );
    assert!(!accepted(&*store, &sessions[0]).await);
    assert!(accepted(&*store, &sessions[1]).await);

    assert_eq!(
        store
            .end_operator_sessions(&operator.id)
            .await
            .expect("end all"),
        2
    );
    assert!(!accepted(&*store, &sessions[2]).await);
    assert!(
        accepted(&*store, &others).await,
        "another operator's session"
    );
    assert_eq!(
        store
            .end_operator_sessions(&operator.id)
            .await
            .expect("end all"),
        0
    );
}

/// Disabling records the time and deletes the operator's sessions and sign-in tokens;
/// enabling clears the time and brings neither back.
pub async fn disabling_ends_sessions_and_tokens(store: Arc<dyn Store>) {
    let (operator, token) = created(&*store, "ops@acme.example").await;
    let (other, other_token) = created(&*store, "other@acme.example").await;
    let now = millis_now();
    let signed_in = new_session(&operator.id, now);
    store
        .start_operator_session(&signed_in)
        .await
        .expect("start");
    let others = new_session(&other.id, now);
    store.start_operator_session(&others).await.expect("start");

    assert!(
        store
            .set_operator_disabled(&operator.id, Some(now))
            .await
            .expect("disable")
    );
    let disabled = store
        .operator(&operator.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(disabled.disabled_at, Some(now));
    assert_eq!(
        store
            .end_operator_sessions(&operator.id)
            .await
            .expect("end all"),
        0,
        "the sessions were deleted"
    );
    assert!(
        store
            .signin_token_operator(&token.hash, now)
            .await
            .expect("valid")
            .is_none()
    );
    assert!(
        accepted(&*store, &others).await,
        "another operator's session"
    );
    assert!(
        store
            .signin_token_operator(&other_token.hash, now)
            .await
            .expect("valid")
            .is_some(),
        "another operator's token"
    );

    assert!(
        store
            .set_operator_disabled(&operator.id, None)
            .await
            .expect("enable")
    );
    let enabled = store
        .operator(&operator.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(enabled.disabled_at, None);
    assert!(!accepted(&*store, &signed_in).await, "sessions stay ended");
    assert!(
        store
            .signin_token_operator(&token.hash, now)
            .await
            .expect("valid")
            .is_none(),
        "tokens stay deleted"
    );
    assert!(
        !store
            .set_operator_disabled("op_unknown", Some(now))
            .await
            .expect("disable")
    );
}

/// A reset forgets the password, ends every session, replaces the sign-in token and clears
/// the failures; the new token then works.
pub async fn resetting_replaces_password_sessions_and_token(store: Arc<dyn Store>) {
    let (operator, first) = created(&*store, "ops@acme.example").await;
    let now = millis_now();
    let signed_in = new_session(&operator.id, now);
    store
        .redeem_signin_token(&first.hash, "$argon2id$old", &signed_in, now)
        .await
        .expect("redeem")
        .expect("redeemed");
    let second = new_session(&operator.id, now);
    store.start_operator_session(&second).await.expect("start");
    store
        .record_signin_failure(&operator.id, now, now - Duration::days(1))
        .await
        .expect("failure");

    let replaced = new_token(&operator.id, now);
    assert!(
        store
            .reset_operator(&operator.id, &replaced)
            .await
            .expect("reset")
    );
    let new = new_token(&operator.id, now);
    assert!(
        store
            .reset_operator(&operator.id, &new)
            .await
            .expect("reset again")
    );
    let reset = store
        .operator(&operator.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(reset.password_hash, None);
    assert_eq!(
        (reset.failed_signins, reset.last_failed_signin_at),
        (0, None)
    );
    assert!(!accepted(&*store, &signed_in).await);
    assert!(!accepted(&*store, &second).await);
    assert!(
        store
            .signin_token_operator(&replaced.hash, now)
            .await
            .expect("valid")
            .is_none(),
        "the earlier token is replaced"
    );
    assert!(
        store
            .signin_token_operator(&new.hash, now)
            .await
            .expect("valid")
            .is_some()
    );
    let after = new_session(&operator.id, now);
    let redeemed = store
        .redeem_signin_token(&new.hash, "$argon2id$new", &after, now)
        .await
        .expect("redeem")
        .expect("the new token works");
    assert_eq!(redeemed.password_hash.as_deref(), Some("$argon2id$new"));

    let stray = new_token("op_unknown", now);
    assert!(
        !store
            .reset_operator("op_unknown", &stray)
            .await
            .expect("reset")
    );
}

/// Pruning deletes sessions expired at `now` or idle since before the cutoff, and tokens
/// expired at `now`, and nothing else.
pub async fn operator_sessions_and_tokens_are_pruned(store: Arc<dyn Store>) {
    let (operator, live_token) = created(&*store, "ops@acme.example").await;
    let now = millis_now();
    let idle_since = now - Duration::hours(1);
    let late = new_operator("late@acme.example", OperatorRole::Viewer);
    let expired_token = new_token(&late.id, now - TOKEN_TTL);
    assert!(
        store
            .insert_operator(&late, &expired_token)
            .await
            .expect("insert")
    );
    let mut expired = new_session(&operator.id, now - SESSION_TTL);
    expired.last_seen_at = now;
    let mut idle = new_session(&operator.id, now - Duration::hours(2));
    idle.last_seen_at = idle_since - Duration::milliseconds(1);
    let mut at_cutoff = new_session(&operator.id, now - Duration::hours(2));
    at_cutoff.last_seen_at = idle_since;
    let live = new_session(&operator.id, now);
    for session in [&expired, &idle, &at_cutoff, &live] {
        store.start_operator_session(session).await.expect("start");
    }

    assert_eq!(
        store
            .prune_operator_sessions(now, idle_since)
            .await
            .expect("prune"),
        3,
        "two sessions and one token"
    );
    assert_eq!(
        store
            .prune_operator_sessions(now, idle_since)
            .await
            .expect("prune again"),
        0
    );
    for kept in [&at_cutoff, &live] {
        assert!(
            store
                .operator_session(&kept.id_hash, now, idle_since)
                .await
                .expect("session")
                .is_some()
        );
    }
    assert!(
        store
            .signin_token_operator(&live_token.hash, now)
            .await
            .expect("valid")
            .is_some()
    );
    assert_eq!(
        store
            .end_operator_sessions(&operator.id)
            .await
            .expect("end"),
        2,
        "exactly the expired and the idle session went"
    );
}

/// A run of failures restarts once its last failure is older than the lock: an expired lock
/// does not make every later wrong password lock again.
pub async fn signin_failures_restart_after_an_expired_lock(store: Arc<dyn Store>) {
    let (operator, _) = created(&*store, "lock@acme.example").await;
    let start = millis_now();
    for n in 0..5 {
        let at = start + Duration::seconds(n);
        store
            .record_signin_failure(&operator.id, at, at - Duration::minutes(15))
            .await
            .expect("failure");
    }
    let count = |store: Arc<dyn Store>, id: String| async move {
        store
            .operator(&id)
            .await
            .expect("read")
            .expect("operator")
            .failed_signins
    };
    assert_eq!(count(store.clone(), operator.id.clone()).await, 5);
    let later = start + Duration::minutes(30);
    store
        .record_signin_failure(&operator.id, later, later - Duration::minutes(15))
        .await
        .expect("failure");
    assert_eq!(
        count(store.clone(), operator.id.clone()).await,
        1,
        "a new run"
    );
}
