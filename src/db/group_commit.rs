//! Group commit for SQLite: concurrent registrations share one durable commit.
//!
//! SQLite has one writer and `synchronous=FULL` makes every commit wait for the disk (an fsync,
//! about a millisecond here), which caps single-request commits at the disk's fsync rate. A
//! single task takes every pending registration from a queue, writes them all as one batch
//! (`registration::register`: a few multi-row statements) and commits them together; each
//! caller gets its number only after that commit is on disk, so the durability promise is
//! unchanged. A registration refused by a rule writes nothing and gets its error. If a
//! statement of the batch fails, its savepoint is rolled back and each registration is written
//! again alone in its own savepoint, so one bad registration cannot sink the others (and a
//! rolled-back one takes its counter bump with it: numbers stay gap-free). If the commit itself
//! fails, every caller of the group gets the error.

use sqlx::{Acquire, AnyPool};
use tokio::sync::{mpsc, oneshot};
use ventanilla_domain::identifiers::RequestNumber;

use super::registration::{Registration, register};
use crate::error::{AppError, AppResult};

/// At most this many registrations share one commit.
const MAX_GROUP: usize = 256;

struct Job {
    registration: Registration,
    reply: oneshot::Sender<AppResult<RequestNumber>>,
}

#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the committing task over the single-writer pool.
    pub fn start(pool: AnyPool) -> GroupCommit {
        let (queue, jobs) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run(pool, jobs));
        GroupCommit { queue }
    }

    /// Registers a request; returns once its commit is durable.
    pub async fn create(&self, registration: Registration) -> AppResult<RequestNumber> {
        let (reply, answer) = oneshot::channel();
        let stopped = || AppError::Internal(anyhow::anyhow!("the group-commit task has stopped"));
        self.queue
            .send(Job {
                registration,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(pool: AnyPool, mut jobs: mpsc::Receiver<Job>) {
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

async fn commit_group(pool: &AnyPool, group: Vec<Job>) {
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let message = format!("{e}");
            for job in group {
                let _ = job
                    .reply
                    .send(Err(AppError::Internal(anyhow::anyhow!("{message}"))));
            }
            return;
        }
    };
    let (registrations, replies): (Vec<Registration>, Vec<_>) =
        group.into_iter().map(|j| (j.registration, j.reply)).unzip();
    let outcomes = match register_in_savepoint(&mut tx, &registrations).await {
        Ok(outcomes) => outcomes,
        Err(_) => {
            let mut outcomes = Vec::with_capacity(registrations.len());
            for registration in &registrations {
                let alone = register_in_savepoint(&mut tx, std::slice::from_ref(registration))
                    .await
                    .and_then(|mut answers| {
                        answers.pop().ok_or_else(|| {
                            AppError::Internal(anyhow::anyhow!("no registration answer"))
                        })
                    });
                outcomes.push(alone.and_then(|answer| answer));
            }
            outcomes
        }
    };
    let outcomes: Vec<_> = replies.into_iter().zip(outcomes).collect();
    match tx.commit().await {
        Ok(()) => {
            for (reply, outcome) in outcomes {
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            let message = format!("{e}");
            for (reply, _) in outcomes {
                let _ = reply.send(Err(AppError::Internal(anyhow::anyhow!(
                    "commit failed: {message}"
                ))));
            }
        }
    }
}

/// Registers `batch` in a savepoint: kept when every statement succeeded, rolled back otherwise.
async fn register_in_savepoint(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    batch: &[Registration],
) -> AppResult<Vec<AppResult<RequestNumber>>> {
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
