//! CPU time spent by this process and by the PostgreSQL server during a measurement, read from
//! `/proc` (Linux). On a 2-core machine where client, server and database share the cores, wall
//! time alone cannot say which of them a change made cheaper.

use std::time::Duration;

/// Cumulative CPU time (user + system) at one instant.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    restock: Duration,
    postgres: Duration,
}

/// CPU used between two samples.
#[derive(Debug, Clone, Copy)]
pub struct CpuUsed {
    pub restock: Duration,
    pub postgres: Duration,
}

impl CpuSample {
    /// `None` where `/proc` cannot be read (not Linux).
    pub fn now() -> Option<Self> {
        let restock = process_cpu("/proc/self/stat")?;
        let mut postgres = Duration::ZERO;
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let path = entry.path();
            let is_pid = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
            if !is_pid {
                continue;
            }
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            if comm.trim_end() == "postgres" {
                postgres += process_cpu(&path.join("stat").to_string_lossy()).unwrap_or_default();
            }
        }
        Some(Self { restock, postgres })
    }

    /// CPU used since `self`. PostgreSQL backends that exited in between are not counted (their
    /// time is lost with their `/proc` entry), so keep connections open across a measurement.
    pub fn until(self, later: Self) -> CpuUsed {
        CpuUsed {
            restock: later.restock.saturating_sub(self.restock),
            postgres: later.postgres.saturating_sub(self.postgres),
        }
    }
}

impl std::fmt::Display for CpuUsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CPU: restock process {:.1} s, PostgreSQL {:.1} s",
            self.restock.as_secs_f64(),
            self.postgres.as_secs_f64()
        )
    }
}

/// utime + stime of `/proc/<pid>/stat`, fields 14 and 15, counted after the `)` that ends the
/// command name (which may itself contain spaces).
fn process_cpu(stat_path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // USER_HZ is 100 on every Linux configuration in use.
    Some(Duration::from_millis((utime + stime) * 10))
}
