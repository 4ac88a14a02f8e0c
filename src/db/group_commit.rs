//! Group commit for SQLite: concurrent writes share one durable commit.
//!
//! SQLite has one writer and `synchronous=FULL` makes every commit wait for the disk (an fsync,
//! about a millisecond here), which caps single commits at the disk's fsync rate. A single task
//! takes every pending piece of work from a queue — a registration (`create`), an inbound mail
//! (`mail::inbound::ingest`) — runs each in its own savepoint of one transaction and commits
//! them together; each caller gets its answer only after that commit is on disk, so the
//! durability promise is unchanged. Work that fails rolls back its savepoint alone (a
//! registration's counter bump with it, so numbers stay gap-free); if the commit itself fails,
//! every caller of the group gets the error.

use futures_util::future::BoxFuture;
use sqlx::{Acquire, AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};
use ventanilla_domain::identifiers::RequestNumber;
use ventanilla_domain::lifecycle::Actor;

use super::requests::{NewRequest, create_in};
use crate::error::{AppError, AppResult};

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

#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Box<dyn Job>>,
}

impl GroupCommit {
    /// Starts the committing task over the single-writer pool.
    pub fn start(pool: AnyPool) -> GroupCommit {
        let (queue, jobs) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run(pool, jobs));
        GroupCommit { queue }
    }

    /// Runs `work` in the next group's transaction; returns its result once the commit is
    /// durable. An `Err` from `work` rolls back what it wrote and nothing else.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, AppResult<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let stopped = || internal("the group-commit task has stopped");
        let job: Box<dyn Job> = Box::new(Pending {
            work: Some(work),
            outcome: None,
            reply,
        });
        self.queue.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Registers a request; returns once its commit is durable.
    pub async fn create(
        &self,
        new: NewRequest,
        actor: Actor,
        now_ms: i64,
    ) -> AppResult<RequestNumber> {
        self.run(move |conn| Box::pin(create_in(conn, new, actor, now_ms)))
            .await
    }
}

async fn run(pool: AnyPool, mut jobs: mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&pool, group).await;
    }
}

async fn commit_group(pool: &AnyPool, group: Vec<Box<dyn Job>>) {
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let message = e.to_string();
            for job in group {
                job.settle(Err(message.clone()));
            }
            return;
        }
    };
    let mut ran = Vec::with_capacity(group.len());
    for mut job in group {
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
    let commit = tx.commit().await.map_err(|e| e.to_string());
    for job in ran {
        job.settle(commit.clone());
    }
}
