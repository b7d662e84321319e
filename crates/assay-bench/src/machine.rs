//! The machine a benchmark ran on, for the report.

pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub ram_bytes: Option<u64>,
    pub os: String,
    /// The 1, 5 and 15 minute load averages, to show a busy (shared) machine.
    pub load: String,
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = field(&cpuinfo, "model name")
            .unwrap_or("unknown CPU")
            .to_owned();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let ram_bytes = field(&meminfo, "MemTotal")
            .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024);
        let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let os = format!(
            "{}, Linux {}",
            field(&release, "PRETTY_NAME")
                .map(|v| v.trim_matches('"'))
                .unwrap_or(std::env::consts::OS),
            kernel.trim()
        );
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpu,
            cores: cores(),
            ram_bytes,
            os,
            load,
        }
    }
}

/// Cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The value of the first `key: value` or `key=value` line.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.trim_start();
        let value = rest.strip_prefix(':').or_else(|| rest.strip_prefix('='))?;
        Some(value.trim())
    })
}
