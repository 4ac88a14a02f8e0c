//! Group commit for SQLite: concurrent writes share one durable commit.
//!
//! SQLite has one writer and `synchronous=FULL` makes every commit wait for the disk (an fsync,
//! about a millisecond here), which caps single commits at the disk's fsync rate. A single task
//! takes every pending piece of work from a queue and commits it together; each caller gets its
//! answer only after that commit is on disk, so the durability promise is unchanged. If the
//! commit itself fails, every caller of the group gets the error.
//!
//! Three kinds of work share a group:
//! - registrations (`create`), written as one batch (`registration::register`: a few multi-row
//!   statements in a savepoint) and read back together before the commit
//!   (`requests::read_back`), so callers need no reads of their own. A registration refused
//!   by a rule writes nothing and gets its error. If a statement of the batch fails, the
//!   savepoint is rolled back and each registration is written again alone in its own
//!   savepoint, so one bad registration cannot sink the others (and a rolled-back one takes
//!   its counter bump with it: numbers stay gap-free);
//! - inbound mails (`ingest`, from `mail::inbound::ingest`), stored and applied together
//!   (`mail::inbound::ingest_all`: those that start requests as one batch, the replies as
//!   another, the rest one by one, each in its own savepoint);
//! - any other work (`run`, e.g. a stored message applied again), each in its own savepoint:
//!   work that fails rolls back what it wrote and nothing else.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::future::BoxFuture;
use sqlx::{Acquire, AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};
use ventanilla_domain::identifiers::RequestNumber;

use super::Engine;
use super::registration::{Registered, Registration, register};
use super::requests::{ReadBack, read_back};
use crate::error::{AppError, AppResult};
use crate::mail::inbound::{MailToIngest, Outcome, ingest_all};

/// At most this many pieces of work share one commit.
const MAX_GROUP: usize = 256;

/// One caller's work, its type erased so that different kinds share a group.
trait Job: Send {
    /// Runs the work inside its savepoint; true when it succeeded (the savepoint is kept).
    fn run<'a>(&'a mut self, conn: &'a mut AnyConnection) -> BoxFuture<'a, bool>;
    /// Answers the caller once the commit is known (`Err` with the commit's error).
    fn settle(self: Box<Self>, commit: Result<(), String>);
}

struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<AppResult<T>>,
    reply: oneshot::Sender<AppResult<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, AppResult<T>> + Send + 'static,
{
    fn run<'a>(&'a mut self, conn: &'a mut AnyConnection) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let outcome = match self.work.take() {
                Some(work) => work(conn).await,
                None => Err(internal("a group-commit job ran twice")),
            };
            let succeeded = outcome.is_ok();
            self.outcome = Some(outcome);
            succeeded
        })
    }

    fn settle(self: Box<Self>, commit: Result<(), String>) {
        let answer = match (commit, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(internal("a group-commit job did not run")),
            (Err(message), _) => Err(internal(&format!("commit failed: {message}"))),
        };
        let _ = self.reply.send(answer);
    }
}

fn internal(message: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("{message}"))
}

enum Work {
    Registration {
        registration: Box<Registration>,
        reply: oneshot::Sender<AppResult<(RequestNumber, ReadBack)>>,
    },
    Mail {
        mail: Box<MailToIngest>,
        reply: oneshot::Sender<AppResult<Option<Outcome>>>,
    },
    Other(Box<dyn Job>),
}

#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Work>,
    counters: Arc<Counters>,
}

/// What the committing task has done since it started. The benchmark reads it around a load to
/// tell how full the groups were and how much of the time the single writer was busy. Work that
/// failed counts too.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Activity {
    pub groups: u64,
    pub registrations: u64,
    /// Other work, such as inbound mails.
    pub other_work: u64,
    /// Batches in which a statement failed, so that each piece was written again alone: of
    /// registrations (one refused by a rule does not count: it fails no statement), or of
    /// inbound mails.
    pub batches_retried: u64,
    /// Time the task spent on groups, from asking for the writer connection to the last answer
    /// (the group in progress included, up to the reading).
    pub busy_micros: u64,
    /// Of which the `COMMIT` (the flush of the WAL).
    pub commit_micros: u64,
}

impl Activity {
    /// What was done between `earlier` and this reading.
    pub fn since(self, earlier: Activity) -> Activity {
        Activity {
            groups: self.groups.saturating_sub(earlier.groups),
            registrations: self.registrations.saturating_sub(earlier.registrations),
            other_work: self.other_work.saturating_sub(earlier.other_work),
            batches_retried: self.batches_retried.saturating_sub(earlier.batches_retried),
            busy_micros: self.busy_micros.saturating_sub(earlier.busy_micros),
            commit_micros: self.commit_micros.saturating_sub(earlier.commit_micros),
        }
    }
}

/// Finished groups are added at once when each ends; the group in progress is known by its start,
/// so that a reading in the middle of a long group counts the part already spent.
struct Counters {
    epoch: Instant,
    /// Microseconds from `epoch` to the start of the group in progress, plus one; 0 when idle.
    group_started: AtomicU64,
    groups: AtomicU64,
    registrations: AtomicU64,
    other_work: AtomicU64,
    batches_retried: AtomicU64,
    busy_micros: AtomicU64,
    commit_micros: AtomicU64,
}

impl Counters {
    fn new() -> Counters {
        Counters {
            epoch: Instant::now(),
            group_started: AtomicU64::new(0),
            groups: AtomicU64::new(0),
            registrations: AtomicU64::new(0),
            other_work: AtomicU64::new(0),
            batches_retried: AtomicU64::new(0),
            busy_micros: AtomicU64::new(0),
            commit_micros: AtomicU64::new(0),
        }
    }

    fn group_starts(&self) {
        self.group_started
            .store(micros_since(self.epoch) + 1, Ordering::Relaxed);
    }

    fn group_ended(&self, registrations: usize, other_work: usize, commit_micros: u64) {
        let started = self.group_started.swap(0, Ordering::Relaxed);
        let busy = micros_since(self.epoch).saturating_sub(started.saturating_sub(1));
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.registrations
            .fetch_add(registrations as u64, Ordering::Relaxed);
        self.other_work
            .fetch_add(other_work as u64, Ordering::Relaxed);
        self.busy_micros.fetch_add(busy, Ordering::Relaxed);
        self.commit_micros
            .fetch_add(commit_micros, Ordering::Relaxed);
    }

    fn read(&self) -> Activity {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let in_progress = match read(&self.group_started) {
            0 => 0,
            started => micros_since(self.epoch).saturating_sub(started - 1),
        };
        Activity {
            groups: read(&self.groups),
            registrations: read(&self.registrations),
            other_work: read(&self.other_work),
            batches_retried: read(&self.batches_retried),
            busy_micros: read(&self.busy_micros) + in_progress,
            commit_micros: read(&self.commit_micros),
        }
    }
}

fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

impl GroupCommit {
    /// Starts the committing task over the single-writer pool.
    pub fn start(pool: AnyPool) -> GroupCommit {
        let (queue, jobs) = mpsc::channel(4 * MAX_GROUP);
        let counters = Arc::new(Counters::new());
        tokio::spawn(run(pool, jobs, counters.clone()));
        GroupCommit { queue, counters }
    }

    /// The task's activity so far.
    pub fn activity(&self) -> Activity {
        self.counters.read()
    }

    /// Runs `work` in the next group's transaction; returns its result once the commit is
    /// durable. An `Err` from `work` rolls back what it wrote and nothing else.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, AppResult<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending {
            work: Some(work),
            outcome: None,
            reply,
        });
        self.send(Work::Other(job), answer).await
    }

    /// Stores and applies an inbound message with the others of its group
    /// (`mail::inbound::ingest_all`); answers once the commit is durable, `None` when the message
    /// could not be stored.
    pub async fn ingest(&self, mail: MailToIngest) -> AppResult<Option<Outcome>> {
        let (reply, answer) = oneshot::channel();
        self.send(
            Work::Mail {
                mail: Box::new(mail),
                reply,
            },
            answer,
        )
        .await
    }

    /// Registers a request; returns its number and the request as registered once its commit
    /// is durable.
    pub async fn create(&self, registration: Registration) -> AppResult<(RequestNumber, ReadBack)> {
        let (reply, answer) = oneshot::channel();
        self.send(
            Work::Registration {
                registration: Box::new(registration),
                reply,
            },
            answer,
        )
        .await
    }

    async fn send<T>(&self, work: Work, answer: oneshot::Receiver<AppResult<T>>) -> AppResult<T> {
        let stopped = || internal("the group-commit task has stopped");
        self.queue.send(work).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(pool: AnyPool, mut queue: mpsc::Receiver<Work>, counters: Arc<Counters>) {
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(work) => group.push(work),
                Err(_) => break,
            }
        }
        let registrations = group
            .iter()
            .filter(|work| matches!(work, Work::Registration { .. }))
            .count();
        let other_work = group.len() - registrations;
        counters.group_starts();
        let commit_micros = commit_group(&pool, group, &counters).await;
        counters.group_ended(registrations, other_work, commit_micros);
    }
}

/// Runs and commits one group; returns how long its `COMMIT` took (0 when it never got there).
async fn commit_group(pool: &AnyPool, group: Vec<Work>, counters: &Counters) -> u64 {
    let mut registrations = Vec::new();
    let mut replies = Vec::new();
    let mut mails = Vec::new();
    let mut mail_replies = Vec::new();
    let mut others = Vec::new();
    for work in group {
        match work {
            Work::Registration {
                registration,
                reply,
            } => {
                registrations.push(*registration);
                replies.push(reply);
            }
            Work::Mail { mail, reply } => {
                mails.push(*mail);
                mail_replies.push(reply);
            }
            Work::Other(job) => others.push(job),
        }
    }
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(internal(&message)));
            }
            for reply in mail_replies {
                let _ = reply.send(Err(internal(&message)));
            }
            for job in others {
                job.settle(Err(message.clone()));
            }
            return 0;
        }
    };
    let registered = register_all(&mut tx, &registrations, counters).await;
    let ids: Vec<i64> = registered
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|r| r.request_id))
        .collect();
    let answers = match read_back(&mut tx, &ids).await {
        Ok(read) => with_read_back(registered, read),
        Err(e) => {
            // Nothing is committed: the registrations are told so; a refused one keeps its
            // own refusal (it wrote nothing either way).
            let message = match e {
                AppError::Internal(e) => format!("reading the registrations back: {e}"),
                AppError::Problem(p) => format!("reading the registrations back: {}", p.detail),
            };
            let _ = tx.rollback().await;
            for (reply, answer) in replies.into_iter().zip(registered) {
                let _ = reply.send(answer.and(Err(internal(&message))));
            }
            for reply in mail_replies {
                let _ = reply.send(Err(internal(&message)));
            }
            for job in others {
                job.settle(Err(message.clone()));
            }
            return 0;
        }
    };
    let mail_outcomes = if mails.is_empty() {
        Vec::new()
    } else {
        ingest_mails(&mut tx, &mails, counters).await
    };
    let mut ran = Vec::with_capacity(others.len());
    for mut job in others {
        let mut savepoint = match tx.begin().await {
            Ok(savepoint) => savepoint,
            Err(e) => {
                job.settle(Err(e.to_string()));
                continue;
            }
        };
        if job.run(&mut savepoint).await {
            if let Err(e) = savepoint.commit().await {
                job.settle(Err(e.to_string()));
                continue;
            }
        } else {
            let _ = savepoint.rollback().await;
        }
        ran.push(job);
    }
    let committing = Instant::now();
    let commit = tx.commit().await.map_err(|e| e.to_string());
    let commit_micros = micros_since(committing);
    for (reply, answer) in replies.into_iter().zip(answers) {
        let answer = match &commit {
            Ok(()) => answer,
            Err(message) => Err(internal(&format!("commit failed: {message}"))),
        };
        let _ = reply.send(answer);
    }
    for (reply, outcome) in mail_replies.into_iter().zip(mail_outcomes) {
        let answer = match &commit {
            Ok(()) => outcome,
            Err(message) => Err(internal(&format!("commit failed: {message}"))),
        };
        let _ = reply.send(answer);
    }
    for job in ran {
        job.settle(commit.clone());
    }
    commit_micros
}

/// The group's inbound mails in a savepoint of their own: if storing them fails (the database
/// is gone), none of them is committed and each caller gets the error.
async fn ingest_mails(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    mails: &[MailToIngest],
    counters: &Counters,
) -> Vec<AppResult<Option<Outcome>>> {
    let failed = |e: AppError| {
        let message = match e {
            AppError::Internal(e) => format!("storing the inbound messages: {e}"),
            AppError::Problem(p) => format!("storing the inbound messages: {}", p.code),
        };
        mails.iter().map(|_| Err(internal(&message))).collect()
    };
    let mut savepoint = match tx.begin().await {
        Ok(savepoint) => savepoint,
        Err(e) => return failed(e.into()),
    };
    match ingest_all(&mut savepoint, Engine::Sqlite, mails).await {
        Ok(ingested) => {
            if ingested.batch_failed {
                counters.batches_retried.fetch_add(1, Ordering::Relaxed);
            }
            match savepoint.commit().await {
                Ok(()) => ingested.outcomes.into_iter().map(Ok).collect(),
                Err(e) => failed(e.into()),
            }
        }
        Err(e) => {
            let _ = savepoint.rollback().await;
            failed(e)
        }
    }
}

/// Each registration with what was read back for it (`read` holds the successful ones, in
/// order); a refused one keeps its error.
fn with_read_back(
    registered: Vec<AppResult<Registered>>,
    read: Vec<ReadBack>,
) -> Vec<AppResult<(RequestNumber, ReadBack)>> {
    let mut read = read.into_iter();
    registered
        .into_iter()
        .map(|answer| {
            let registered = answer?;
            let back = read
                .next()
                .ok_or_else(|| internal("a registration was not read back"))?;
            Ok((registered.number, back))
        })
        .collect()
}

/// The registrations as one batch; if a statement of it fails, each one alone.
async fn register_all(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    registrations: &[Registration],
    counters: &Counters,
) -> Vec<AppResult<Registered>> {
    if registrations.is_empty() {
        return Vec::new();
    }
    let batch_error = match register_in_savepoint(tx, registrations).await {
        Ok(numbers) => return numbers,
        Err(e) => e,
    };
    if let [_] = registrations {
        return vec![Err(batch_error)];
    }
    counters.batches_retried.fetch_add(1, Ordering::Relaxed);
    let cause = batch_error.log_cause();
    tracing::warn!(
        error = %cause,
        registrations = registrations.len(),
        "a registration batch failed; each registration is written alone"
    );
    let mut numbers = Vec::with_capacity(registrations.len());
    for registration in registrations {
        let alone = register_in_savepoint(tx, std::slice::from_ref(registration))
            .await
            .and_then(|mut answers| {
                answers
                    .pop()
                    .ok_or_else(|| internal("no registration answer"))
            });
        numbers.push(alone.and_then(|answer| answer));
    }
    numbers
}

/// Registers `batch` in a savepoint: kept when every statement succeeded, rolled back otherwise.
async fn register_in_savepoint(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    batch: &[Registration],
) -> AppResult<Vec<AppResult<Registered>>> {
    let mut savepoint = tx.begin().await?;
    match register(&mut savepoint, batch).await {
        Ok(answers) => {
            savepoint.commit().await?;
            Ok(answers)
        }
        Err(e) => {
            let _ = savepoint.rollback().await;
            Err(e)
        }
    }
}
