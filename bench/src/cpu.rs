//! CPU time spent by this process, its child processes (pgbench) and the PostgreSQL server
//! during a measurement, read from `/proc` (Linux). On a 2-core machine where client, server and
//! database share the cores, wall time alone cannot say which of them a change made cheaper.

use std::time::Duration;

/// Cumulative CPU time (user + system) at one instant.
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    restock: Duration,
    children: Duration,
    postgres: Duration,
}

/// CPU used between two samples.
#[derive(Debug, Clone, Copy)]
pub struct CpuUsed {
    pub restock: Duration,
    /// Child processes that exited and were waited for (pgbench).
    pub children: Duration,
    pub postgres: Duration,
}

impl CpuSample {
    /// `None` where `/proc` cannot be read (not Linux).
    pub fn now() -> Option<Self> {
        let (restock, children) = process_cpu("/proc/self/stat")?;
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
                // The postmaster's children time holds the backends that already exited.
                let (own, reaped) =
                    process_cpu(&path.join("stat").to_string_lossy()).unwrap_or_default();
                postgres += own + reaped;
            }
        }
        Some(Self {
            restock,
            children,
            postgres,
        })
    }

    /// CPU used since `before` (taken with [`CpuSample::now`]), if both samples could be read.
    pub fn used_since(before: Option<Self>) -> Option<CpuUsed> {
        Some(before?.until(Self::now()?))
    }

    /// CPU used since `self`.
    fn until(self, later: Self) -> CpuUsed {
        CpuUsed {
            restock: later.restock.saturating_sub(self.restock),
            children: later.children.saturating_sub(self.children),
            postgres: later.postgres.saturating_sub(self.postgres),
        }
    }
}

impl CpuUsed {
    /// Microseconds of `cpu` per unit of work, for `count` units.
    pub fn micros_per(cpu: Duration, count: f64) -> f64 {
        1e6 * cpu.as_secs_f64() / count
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

/// (utime + stime, cutime + cstime) of `/proc/<pid>/stat`, fields 14 to 17, counted after the
/// `)` that ends the command name (which may itself contain spaces).
fn process_cpu(stat_path: &str) -> Option<(Duration, Duration)> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let ticks: Vec<u64> = after_name
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [utime, stime, cutime, cstime] = ticks[..] else {
        return None;
    };
    // USER_HZ is 100 on every Linux configuration in use.
    let ms = |t: u64| Duration::from_millis(t * 10);
    Some((ms(utime + stime), ms(cutime + cstime)))
}
