//! Writing the request log without a database write on every call's path.
//!
//! Calls hand their entry to a task that writes whatever has gathered in one transaction
//! (up to [`BATCH`] entries), so a burst of calls costs a few writes rather than one each.
//! The queue is bounded: when the database falls behind, calls wait for room, but at most a
//! few seconds (a call's time is bounded), after which an entry is dropped with an error in
//! the logs. A failed write is retried with growing pauses; the server drains the queue before
//! it exits.

use std::{sync::Arc, time::Duration};

use plugboard_store::{Store, request_log::RequestLogEntry};
use tokio::sync::{mpsc, oneshot};

/// Most entries written in one transaction.
pub const BATCH: usize = 500;

/// Entries waiting at most; past it calls wait for the writer.
const QUEUE: usize = 10_000;

/// The most a call waits for the log: for room in the queue, or for its entry to be written.
pub const WAIT: Duration = Duration::from_secs(5);

/// Attempts to write one batch before it is given up (and logged as lost).
const ATTEMPTS: u32 = 8;

enum Message {
    Entry(Box<RequestLogEntry>),
    Flush(oneshot::Sender<()>),
}

/// The sending side, cheap to clone.
#[derive(Debug, Clone)]
pub struct RequestLogWriter {
    queue: mpsc::Sender<Message>,
}

impl RequestLogWriter {
    /// Starts the writing task on `store`; it ends when every writer is dropped, after
    /// writing what is queued.
    pub fn spawn(store: Arc<dyn Store>) -> Self {
        let (queue, received) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, received));
        Self { queue }
    }

    /// Queues an entry, waiting at most [`WAIT`] for room: a database that falls that far
    /// behind loses the entry (logged as an error) rather than holding the call.
    pub async fn record(&self, entry: RequestLogEntry) {
        let queued = tokio::time::timeout(WAIT, self.queue.send(Message::Entry(Box::new(entry))));
        match queued.await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                tracing::error!("the request log writer has stopped; an entry was not recorded");
            }
            Err(_) => tracing::error!(
                "the request log is {QUEUE} entries behind the database; an entry was not recorded"
            ),
        }
    }

    /// Waits until everything queued before this call is written (or given up), at most
    /// [`WAIT`].
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        let _ = tokio::time::timeout(WAIT, async {
            if self.queue.send(Message::Flush(done)).await.is_ok() {
                let _ = written.await;
            }
        })
        .await;
    }

    /// Waits until everything queued is written, however long the database takes: for
    /// shutdown, when no call is waiting.
    pub async fn drain(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

async fn run(store: Arc<dyn Store>, mut received: mpsc::Receiver<Message>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(first) = received.recv().await {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Entry(entry) => batch.push(*entry),
                Message::Flush(done) => flushes.push(done),
            }
            if batch.len() < BATCH {
                next = received.try_recv().ok();
            }
        }
        write(store.as_ref(), &batch).await;
        batch.clear();
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write(store: &dyn Store, batch: &[RequestLogEntry]) {
    if batch.is_empty() {
        return;
    }
    let mut pause = Duration::from_millis(50);
    for attempt in 1..=ATTEMPTS {
        match store.record_requests(batch).await {
            Ok(()) => return,
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(%error, attempt, entries = batch.len(), "writing the request log failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(error) => {
                tracing::error!(%error, entries = batch.len(), "writing the request log failed; these entries are lost");
            }
        }
    }
}
