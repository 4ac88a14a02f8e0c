//! Group commit for SQLite: concurrent registrations share one durable commit.
//!
//! SQLite has one writer and `synchronous=FULL` makes every commit wait for the disk (an fsync,
//! about a millisecond here), which caps single-request commits at the disk's fsync rate. A
//! single task takes every pending registration from a queue, runs each in its own savepoint of
//! one transaction and commits them together; each caller gets its number only after that
//! commit is on disk, so the durability promise is unchanged. A registration that fails rolls
//! back its savepoint alone (and with it its counter bump, so numbers stay gap-free); if the
//! commit itself fails, every caller of the group gets the error.

use sqlx::{Acquire, AnyPool};
use tokio::sync::{mpsc, oneshot};
use ventanilla_domain::identifiers::RequestNumber;
use ventanilla_domain::lifecycle::Actor;

use super::requests::{NewRequest, create_in};
use crate::error::{AppError, AppResult};

/// At most this many registrations share one commit.
const MAX_GROUP: usize = 256;

struct Job {
    new: NewRequest,
    actor: Actor,
    now_ms: i64,
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
    pub async fn create(
        &self,
        new: NewRequest,
        actor: Actor,
        now_ms: i64,
    ) -> AppResult<RequestNumber> {
        let (reply, answer) = oneshot::channel();
        let stopped = || AppError::Internal(anyhow::anyhow!("the group-commit task has stopped"));
        self.queue
            .send(Job {
                new,
                actor,
                now_ms,
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
    let mut outcomes = Vec::with_capacity(group.len());
    for job in group {
        let outcome = match tx.begin().await {
            Ok(mut savepoint) => {
                match create_in(&mut savepoint, job.new, job.actor, job.now_ms).await {
                    Ok(number) => savepoint
                        .commit()
                        .await
                        .map(|()| number)
                        .map_err(AppError::from),
                    Err(e) => {
                        let _ = savepoint.rollback().await;
                        Err(e)
                    }
                }
            }
            Err(e) => Err(AppError::from(e)),
        };
        outcomes.push((job.reply, outcome));
    }
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
