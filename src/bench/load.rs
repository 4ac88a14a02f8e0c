//! Load over HTTP: a fixed number of clients each send one request after another for a fixed
//! time; every answer's latency is recorded and summarised as throughput and percentiles.
//!
//! Scenarios are a table: a name, a description, the expected status and a function that builds
//! the HTTP request. A new endpoint (the queue, full-text search, the request page) is one more row.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::system;
use crate::db::group_commit::{Activity, GroupCommit};

/// What the scenarios need: the server, a token, and samples of existing data.
pub struct LoadContext {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
    /// Numbers of existing requests, to read.
    pub numbers: Vec<String>,
    /// (requester id, service id) pairs the requester is eligible for, to create requests.
    pub pairs: Vec<(i64, i64)>,
    /// The web session cookie (`name=value`) of the same agent, for the pages.
    pub session_cookie: String,
    /// SQLite's committing task, to report how busy its single writer was.
    pub group_commit: Option<GroupCommit>,
}

pub struct Scenario {
    pub name: &'static str,
    pub what: &'static str,
    pub expect: u16,
    pub build: fn(&LoadContext, &mut StdRng) -> reqwest::RequestBuilder,
}

/// Every scenario the harness knows, in the order they run.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "create",
        what: "POST /api/v1/requests (durable registration, answered with the detail)",
        expect: 201,
        build: create_request,
    },
    Scenario {
        name: "get",
        what: "GET /api/v1/requests/{number} (the request with its timeline)",
        expect: 200,
        build: get_request,
    },
    Scenario {
        name: "queue",
        what: "GET /api/v1/queue (open requests sorted by time to breach, first page)",
        expect: 200,
        build: queue,
    },
    Scenario {
        name: "list",
        what: "GET /api/v1/requests?open=true (the newest 50 open requests)",
        expect: 200,
        build: list_open,
    },
    Scenario {
        name: "search",
        what: "GET /api/v1/requests?q=… (full text: one or two words an agent would type)",
        expect: 200,
        build: search,
    },
    Scenario {
        name: "page",
        what: "GET /requests/{number} (the request page's HTML, signed in)",
        expect: 200,
        build: request_page,
    },
    Scenario {
        name: "search_page",
        what: "GET /search?q=… (the search page's HTML with up to 100 results)",
        expect: 200,
        build: search_page,
    },
    Scenario {
        name: "home",
        what: "GET / (the agent's home: every queue with its count and first rows)",
        expect: 200,
        build: home_page,
    },
];

/// What agents type in the search box: words of the generated subjects, descriptions and
/// comments, a surname, a request number's sequence, with and without accents.
const SEARCHES: &[&str] = &[
    "correo",
    "contraseña",
    "red inalámbrica",
    "videoconferencia audio",
    "vpn",
    "certificado vencido",
    "hernandez",
    "García López",
    "laboratorio equipos",
    "impresora",
];

fn search_text(ctx: &LoadContext, rng: &mut StdRng) -> String {
    if rng.random_bool(0.2) {
        // A request's number as typed from a paper form.
        ctx.numbers[rng.random_range(0..ctx.numbers.len())].clone()
    } else {
        SEARCHES[rng.random_range(0..SEARCHES.len())].to_string()
    }
}

fn search(ctx: &LoadContext, rng: &mut StdRng) -> reqwest::RequestBuilder {
    ctx.client
        .get(format!("{}/api/v1/requests", ctx.base))
        .query(&[("q", search_text(ctx, rng))])
        .bearer_auth(&ctx.token)
}

fn search_page(ctx: &LoadContext, rng: &mut StdRng) -> reqwest::RequestBuilder {
    ctx.client
        .get(format!("{}/search", ctx.base))
        .query(&[("q", search_text(ctx, rng))])
        .header(reqwest::header::COOKIE, &ctx.session_cookie)
}

fn home_page(ctx: &LoadContext, _rng: &mut StdRng) -> reqwest::RequestBuilder {
    ctx.client
        .get(format!("{}/", ctx.base))
        .header(reqwest::header::COOKIE, &ctx.session_cookie)
}

fn request_page(ctx: &LoadContext, rng: &mut StdRng) -> reqwest::RequestBuilder {
    let number = &ctx.numbers[rng.random_range(0..ctx.numbers.len())];
    ctx.client
        .get(format!("{}/requests/{number}", ctx.base))
        .header(reqwest::header::COOKIE, &ctx.session_cookie)
}

fn create_request(ctx: &LoadContext, rng: &mut StdRng) -> reqwest::RequestBuilder {
    let (requester, service) = ctx.pairs[rng.random_range(0..ctx.pairs.len())];
    ctx.client
        .post(format!("{}/api/v1/requests", ctx.base))
        .bearer_auth(&ctx.token)
        .json(&json!({
            "channel": "phone",
            "requester_id": requester,
            "service_id": service,
            "subject": "No puedo entrar a mi correo institucional",
            "description": "Desde ayer el correo rechaza mi contraseña; ya reinicié el equipo.",
        }))
}

fn get_request(ctx: &LoadContext, rng: &mut StdRng) -> reqwest::RequestBuilder {
    let number = &ctx.numbers[rng.random_range(0..ctx.numbers.len())];
    ctx.client
        .get(format!("{}/api/v1/requests/{number}", ctx.base))
        .bearer_auth(&ctx.token)
}

fn queue(ctx: &LoadContext, _rng: &mut StdRng) -> reqwest::RequestBuilder {
    ctx.client
        .get(format!("{}/api/v1/queue", ctx.base))
        .bearer_auth(&ctx.token)
}

fn list_open(ctx: &LoadContext, _rng: &mut StdRng) -> reqwest::RequestBuilder {
    ctx.client
        .get(format!("{}/api/v1/requests?open=true", ctx.base))
        .bearer_auth(&ctx.token)
}

/// The summary of one scenario at one concurrency.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measured {
    pub scenario: &'static str,
    pub clients: usize,
    pub seconds: f64,
    pub ok: u64,
    pub errors: u64,
    /// The first unexpected answer, to explain errors.
    pub first_error: Option<String>,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The largest resident memory seen while this scenario ran.
    pub rss_max_kib: u64,
    /// SQLite: how SQLite's single writer fared meanwhile.
    pub writer: Option<WriterLoad>,
}

/// How SQLite's single writer (`db::group_commit`) fared during a measurement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WriterLoad {
    /// Pieces of work (registrations, mails) per group, on average.
    pub mean_group: f64,
    /// Share of the time the committing task was busy with a group.
    pub busy_share: f64,
    /// Share of that busy time spent in `COMMIT` (writing and flushing the WAL).
    pub commit_share: f64,
    /// The counts behind these shares.
    pub activity: Activity,
}

impl WriterLoad {
    /// The load of `activity`, done over `seconds`.
    fn during(activity: Activity, seconds: f64) -> WriterLoad {
        let work = activity.registrations + activity.other_work;
        WriterLoad {
            mean_group: work as f64 / activity.groups.max(1) as f64,
            busy_share: activity.busy_micros as f64 / 1e6 / seconds.max(0.001),
            commit_share: activity.commit_micros as f64 / activity.busy_micros.max(1) as f64,
            activity,
        }
    }

    /// The table's note: «grupos de 31.2, escritor ocupado 97 % (commit 29 %)», and how many
    /// batches had to be written again one registration at a time, when any did.
    pub fn note(&self) -> String {
        let mut note = format!(
            "grupos de {:.1}, escritor ocupado {:.0} % (commit {:.0} %)",
            self.mean_group,
            self.busy_share * 100.0,
            self.commit_share * 100.0
        );
        if self.activity.batches_retried > 0 {
            note.push_str(&format!(
                ", {} lotes reescritos uno a uno",
                self.activity.batches_retried
            ));
        }
        note
    }
}

/// Runs `scenario` with `clients` concurrent clients for `duration`, after a short warm-up whose
/// answers are not counted.
pub async fn run(
    ctx: Arc<LoadContext>,
    scenario: &'static Scenario,
    clients: usize,
    duration: Duration,
) -> Measured {
    let group_commit = ctx.group_commit.clone();
    drive(
        scenario.name,
        clients,
        duration,
        group_commit,
        move |_worker, rng| {
            let request = (scenario.build)(&ctx, rng);
            async move {
                let response = request.send().await.map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body = response.bytes().await.map_err(|e| e.to_string())?;
                if status == scenario.expect {
                    Ok(())
                } else {
                    Err(format!(
                        "{status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(300)])
                    ))
                }
            }
        },
    )
    .await
}

/// Runs `operation` again and again from `clients` concurrent workers for `duration`, after a
/// half-second warm-up whose operations are not counted, and summarises the latencies. The
/// operation gets the worker's index and its own seeded random generator; an `Err` is counted
/// as an error (the first one's text is kept). With `group_commit`, the committing task's
/// activity over the measured time is reported too.
pub async fn drive<F, Fut>(
    name: &'static str,
    clients: usize,
    duration: Duration,
    group_commit: Option<GroupCommit>,
    operation: F,
) -> Measured
where
    F: Fn(usize, &mut StdRng) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let operation = Arc::new(operation);
    let warmup = Duration::from_millis(500);
    let started = Instant::now();
    let measure_from = started + warmup;
    let deadline = measure_from + duration;
    let rss_max = Arc::new(AtomicU64::new(system::rss_kib()));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let rss_max = rss_max.clone();
        let running = running.clone();
        tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                rss_max.fetch_max(system::rss_kib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    // Read when the measurement starts; the reading's own instant counts, in case the task
    // runs late on a busy runtime.
    let activity_at_start = group_commit.clone().map(|group_commit| {
        tokio::spawn(async move {
            tokio::time::sleep_until(measure_from.into()).await;
            (Instant::now(), group_commit.activity())
        })
    });
    let mut workers = Vec::with_capacity(clients);
    for worker in 0..clients {
        let operation = operation.clone();
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(worker as u64 * 7919 + 17);
            let mut latencies: Vec<u32> = Vec::with_capacity(4096);
            let mut errors = 0_u64;
            let mut first_error = None;
            loop {
                let sent = Instant::now();
                if sent >= deadline {
                    break;
                }
                let outcome = operation(worker, &mut rng).await;
                if sent < measure_from {
                    continue;
                }
                match outcome {
                    Ok(()) => {
                        let micros = sent.elapsed().as_micros();
                        latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                    }
                    Err(detail) => {
                        errors += 1;
                        if first_error.is_none() {
                            first_error = Some(detail);
                        }
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut all: Vec<u32> = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        if let Ok((latencies, e, first)) = worker.await {
            all.extend(latencies);
            errors += e;
            if first_error.is_none() {
                first_error = first;
            }
        }
    }
    running.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let seconds = Instant::now()
        .saturating_duration_since(measure_from)
        .as_secs_f64();
    let writer_load = match (group_commit, activity_at_start) {
        (Some(group_commit), Some(at_start)) => match at_start.await {
            Ok((read_at, at_start)) => Some(WriterLoad::during(
                group_commit.activity().since(at_start),
                read_at.elapsed().as_secs_f64(),
            )),
            Err(_) => None,
        },
        _ => None,
    };
    all.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let rank = ((p * all.len() as f64).ceil() as usize).clamp(1, all.len());
        f64::from(all[rank - 1]) / 1000.0
    };
    Measured {
        scenario: name,
        clients,
        seconds,
        ok: all.len() as u64,
        errors,
        first_error,
        per_second: all.len() as f64 / seconds.max(0.001),
        p50_ms: percentile(0.50),
        p95_ms: percentile(0.95),
        p99_ms: percentile(0.99),
        max_ms: percentile(1.0),
        rss_max_kib: rss_max.load(Ordering::Relaxed),
        writer: writer_load,
    }
}
