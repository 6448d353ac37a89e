//! The SQLite threads: one writer with group commit, a pool of readers.
//!
//! **Group commit.** Write commands queue on a channel. The writer takes
//! whatever has queued (up to a batch limit, [`MAX_BATCH`] by default), opens one transaction, runs each
//! command inside its own savepoint (a failing command rolls back alone),
//! takes in the commands that queued meanwhile until the queue is empty or
//! the batch full, commits once, and only then answers every caller with
//! the commit's outcome. Under load, one `fsync` serves a whole batch; with one caller it
//! degrades to one commit per command with no added latency, since the
//! writer never waits for more work to arrive. Just before each commit the
//! writer runs a finishing statement given at spawn (the search index's
//! queue is indexed there, in one statement per transaction); when it
//! fails, the whole transaction rolls back and every caller hears why.
//!
//! **Bulk writes** ([`Writer::write_alone`]: an import of 10⁶ rows) run in
//! a transaction of their own, with no savepoint: a savepoint keeps the
//! original of every page it changes, which costs a bulk write about a
//! seventh of its time (and memory in proportion to what it touches) and
//! buys nothing when nothing else shares the transaction. The writer keeps
//! its temporary store (savepoints' page copies) in memory: on disk it
//! cost grouped commands a quarter of their time.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{StoreError, StoreResult};

/// Log pages between automatic checkpoints.
pub const WAL_CHECKPOINT_PAGES: u32 = 10_000;

/// Most commands committed together; bounds a batch's latency.
pub const MAX_BATCH: usize = 512;

/// Answers a caller once its batch's commit outcome is known.
type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// A queued write command and the way to answer its caller.
trait WriteCommand: Send {
    /// Runs the command; says whether it succeeded (to keep or roll back
    /// its savepoint) and how to answer its caller after the commit.
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Finish);
    /// Answers the caller without running (the batch could not start).
    fn fail(self: Box<Self>, error: StoreError);
    /// Whether the command runs in a transaction of its own.
    fn alone(&self) -> bool;
}

type WriteJob = Box<dyn WriteCommand>;

struct Command<F, T> {
    f: F,
    reply: oneshot::Sender<StoreResult<T>>,
    alone: bool,
}

impl<T, F> WriteCommand for Command<F, T>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Finish) {
        let Command { f, reply, .. } = *self;
        match f(conn) {
            Ok(value) => (
                true,
                Box::new(move |commit: StoreResult<()>| {
                    let _ = reply.send(commit.map(|()| value));
                }),
            ),
            Err(e) => (
                false,
                Box::new(move |_| {
                    let _ = reply.send(Err(e));
                }),
            ),
        }
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }

    fn alone(&self) -> bool {
        self.alone
    }
}

/// Handle to the writer thread.
pub struct Writer {
    jobs: Sender<WriteJob>,
}

impl Writer {
    /// Starts the writer thread; `max_batch` 1 means one commit per command.
    pub fn spawn(
        conn: Connection,
        max_batch: usize,
        before_commit: &'static str,
    ) -> StoreResult<Self> {
        let (jobs, rx) = crossbeam_channel::unbounded::<WriteJob>();
        let max_batch = max_batch.max(1);
        // Checkpoint every 10,000 log pages (40 MB) rather than 1,000: the
        // index pages every insert touches are copied into the database
        // file once per checkpoint, however often they changed meanwhile.
        conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}; PRAGMA temp_store = MEMORY;"
        ))?;
        thread::Builder::new()
            .name("wangge-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch, before_commit))
            .map_err(|e| StoreError::Config(format!("cannot start writer thread: {e}")))?;
        Ok(Self { jobs })
    }

    /// Runs `f` as one command of the next group commit; answers after the
    /// batch is durable. An `Err` from `f` rolls back only this command.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.send(f, false).await
    }

    /// Runs `f` in a transaction of its own, without a savepoint: for
    /// bulk writes. Commands queued before it commit first.
    pub async fn write_alone<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.send(f, true).await
    }

    async fn send<T, F>(&self, f: F, alone: bool) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel::<StoreResult<T>>();
        let job: WriteJob = Box::new(Command { f, reply, alone });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        // A dropped sender means the command panicked or the writer stopped.
        rx.await.unwrap_or(Err(StoreError::Closed))
    }
}

fn writer_loop(
    conn: Connection,
    rx: Receiver<WriteJob>,
    max_batch: usize,
    before_commit: &'static str,
) {
    let mut batch: Vec<WriteJob> = Vec::with_capacity(max_batch);
    let mut finishers: Vec<Finish> = Vec::with_capacity(max_batch);
    // A command to run alone, met while gathering a batch: it runs next.
    let mut held: Option<WriteJob> = None;
    loop {
        let first = match held.take() {
            Some(job) => job,
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => break,
            },
        };
        if first.alone() {
            run_alone(&conn, first, before_commit);
            continue;
        }
        batch.push(first);
        held = take_queued(&rx, &mut batch, max_batch);
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let e = StoreError::from(e);
            tracing::error!(error = %e, "sqlite writer cannot begin a transaction");
            // Nothing ran: answer every command of the batch with the cause.
            for job in batch.drain(..) {
                job.fail(e.clone());
            }
            continue;
        }
        // Commands that queue while the batch runs join it: the commit
        // waits only for an empty queue (or a full batch), never for time.
        let mut ran = 0;
        while !batch.is_empty() {
            ran += batch.len();
            for job in batch.drain(..) {
                if let Some(finish) = run_in_savepoint(&conn, job) {
                    finishers.push(finish);
                }
            }
            if held.is_none() {
                held = take_queued(&rx, &mut batch, max_batch - ran);
            }
        }
        let commit = conn
            .execute_batch(before_commit)
            .and_then(|()| conn.execute_batch("COMMIT"))
            .map_err(StoreError::from);
        if let Err(e) = &commit {
            tracing::error!(error = %e, "sqlite group commit failed");
            let _ = conn.execute_batch("ROLLBACK");
        }
        for finish in finishers.drain(..) {
            finish(commit.clone());
        }
    }
}

/// Moves queued commands into `batch`, up to `room` of them, stopping at
/// one that must run alone (returned, to run after the batch).
fn take_queued(
    rx: &Receiver<WriteJob>,
    batch: &mut Vec<WriteJob>,
    room: usize,
) -> Option<WriteJob> {
    while batch.len() < room {
        match rx.try_recv() {
            Ok(job) if job.alone() => return Some(job),
            Ok(job) => batch.push(job),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
        }
    }
    None
}

/// Runs a statement without parameters, prepared once.
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs one command in its own transaction: committed (after the
/// finishing statement) when it succeeds, rolled back when it fails or
/// panics (its caller then hears from its dropped reply channel).
fn run_alone(conn: &Connection, job: WriteJob, before_commit: &str) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let e = StoreError::from(e);
        tracing::error!(error = %e, "sqlite writer cannot begin a transaction");
        job.fail(e);
        return;
    }
    match catch_unwind(AssertUnwindSafe(|| job.run(conn))) {
        Ok((true, finish)) => {
            let commit = conn
                .execute_batch(before_commit)
                .and_then(|()| conn.execute_batch("COMMIT"))
                .map_err(StoreError::from);
            if let Err(e) = &commit {
                tracing::error!(error = %e, "sqlite commit of a bulk write failed");
                let _ = conn.execute_batch("ROLLBACK");
            }
            finish(commit);
        }
        Ok((false, finish)) => {
            let _ = conn.execute_batch("ROLLBACK");
            finish(Ok(()));
        }
        Err(_) => {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!("a bulk write panicked; it was rolled back");
        }
    }
}

/// Runs one command in a savepoint. `None` when it panicked: its caller is
/// answered by its dropped reply channel, and the savepoint is rolled back.
fn run_in_savepoint(conn: &Connection, job: WriteJob) -> Option<Finish> {
    if let Err(e) = exec(conn, "SAVEPOINT cmd") {
        tracing::error!(error = %e, "sqlite writer cannot open a savepoint");
        return None;
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| job.run(conn)));
    let keep = matches!(outcome, Ok((true, _)));
    let end = if keep {
        exec(conn, "RELEASE cmd")
    } else {
        exec(conn, "ROLLBACK TO cmd").and_then(|()| exec(conn, "RELEASE cmd"))
    };
    if let Err(e) = end {
        tracing::error!(error = %e, "sqlite writer cannot close a savepoint");
    }
    match outcome {
        Ok((_, finish)) => Some(finish),
        Err(_) => {
            tracing::error!("a write command panicked; it was rolled back");
            None
        }
    }
}

/// A fixed pool of reader threads sharing one job queue.
pub struct Readers {
    jobs: Sender<ReadJob>,
}

impl Readers {
    pub fn spawn(conns: Vec<Connection>) -> StoreResult<Self> {
        let (jobs, rx) = crossbeam_channel::unbounded::<ReadJob>();
        for (i, conn) in conns.into_iter().enumerate() {
            let rx = rx.clone();
            thread::Builder::new()
                .name(format!("wangge-sqlite-reader-{i}"))
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        if catch_unwind(AssertUnwindSafe(|| job(&conn))).is_err() {
                            tracing::error!("a read command panicked");
                        }
                    }
                })
                .map_err(|e| StoreError::Config(format!("cannot start reader thread: {e}")))?;
        }
        Ok(Self { jobs })
    }

    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        self.jobs
            .send(Box::new(move |conn| {
                let _ = tx.send(f(conn));
            }))
            .map_err(|_| StoreError::Closed)?;
        rx.await.unwrap_or(Err(StoreError::Closed))
    }
}
