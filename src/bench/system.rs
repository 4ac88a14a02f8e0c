//! The machine under the benchmark: its fsync rate, the process's resident memory, and a
//! description of the hardware for the report.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Durable small writes per second in `dir`: write a 4 KiB block and `fdatasync` it, again and
/// again. A commit that must be on disk before it returns needs at least one such flush, so with
/// one writer this is the ceiling of durable single commits per second.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct FsyncRate {
    pub per_second: f64,
    pub mean_ms: f64,
}

pub fn fsync_rate(dir: &Path, duration: Duration) -> anyhow::Result<FsyncRate> {
    let path = dir.join(format!("fsync-probe-{}", uuid::Uuid::new_v4().simple()));
    let mut file = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&path)?;
    let block = [0x5a_u8; 4096];
    // Pre-allocate, so the probe measures data flushes rather than file growth.
    for _ in 0..16 {
        file.write_all(&block)?;
    }
    file.sync_all()?;
    let started = Instant::now();
    let mut count = 0_u64;
    while started.elapsed() < duration {
        file.seek(SeekFrom::Start((count % 16) * 4096))?;
        file.write_all(&block)?;
        file.sync_data()?;
        count += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(FsyncRate {
        per_second: count as f64 / seconds,
        mean_ms: seconds * 1000.0 / count.max(1) as f64,
    })
}

/// Resident memory of this process in KiB (`VmRSS`), or 0 where /proc is missing.
pub fn rss_kib() -> u64 {
    proc_status_kib("self", "VmRSS:").unwrap_or(0)
}

/// The peak resident memory of this process in KiB (`VmHWM`).
pub fn peak_rss_kib() -> u64 {
    proc_status_kib("self", "VmHWM:").unwrap_or(0)
}

/// A KiB figure of `/proc/{process}/status` (`process`: a pid or `self`).
fn proc_status_kib(process: &str, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_mib: u64,
    pub kernel: String,
    /// The 1-minute load average when the run started: other work on a shared machine skews
    /// every figure.
    pub load_average: f64,
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let memory_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024;
    Machine {
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu_model,
        memory_mib,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_string(),
        load_average: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().and_then(|v| v.parse().ok()))
            .unwrap_or(0.0),
    }
}

/// The resident memory of a `ventanilla serve` process of its own over `database_url`, idle:
/// started, ready (`/readyz` answers), then left alone for `settle`. The benchmark's own process
/// holds its client, its samples and what the deadline recompute left in the allocator, so its
/// figure overstates what a server needs; this one is the server alone.
pub async fn server_alone_rss_kib(database_url: &str, settle: Duration) -> anyhow::Result<u64> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let mut child = Command::new(std::env::current_exe()?)
        .arg("--database")
        .arg(database_url)
        .args(["serve", "--no-demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let pid = child.id();
    let stdout = child.stdout.take();
    // One limit for the whole start: printing the address, then answering `/readyz`.
    let start_limit = Duration::from_secs(60);
    let started = Instant::now();
    // The server prints its address once it listens; the rest of its output is not needed.
    // Stopping the process below closes its output, which ends this reader if it is still waiting.
    let address = tokio::time::timeout(
        start_limit,
        tokio::task::spawn_blocking(move || {
            let lines = std::io::BufReader::new(stdout?).lines();
            for line in lines.map_while(Result::ok) {
                if let Some((_, rest)) = line.split_once("escucha en http://") {
                    return rest.split('/').next().map(str::to_string);
                }
            }
            None
        }),
    )
    .await
    .ok()
    .transpose()?
    .flatten();
    let measured = async {
        let address =
            address.ok_or_else(|| anyhow::anyhow!("the server process printed no address"))?;
        let client = reqwest::Client::new();
        let ready_url = format!("http://{address}/readyz");
        loop {
            let ready = client.get(&ready_url).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < start_limit,
                "the server process was not ready within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(client);
        tokio::time::sleep(settle).await;
        proc_status_kib(&pid.to_string(), "VmRSS:")
            .ok_or_else(|| anyhow::anyhow!("no VmRSS for the server process"))
    }
    .await;
    // SIGINT is the server's own way to stop (it finishes what it is doing).
    let _ = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    let waited = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    });
    waited.await?;
    measured
}
