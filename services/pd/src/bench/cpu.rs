//! CPU time spent by each process over a stretch of a benchmark, read from
//! `/proc` (Linux). Per application it says where the time goes, and it
//! moves less than a rate does on a machine whose speed varies from run to
//! run (the same build absorbed the December window at 1,225–1,529
//! applications/s in one afternoon).

use std::collections::BTreeMap;

/// Clock ticks a second of `/proc`'s CPU times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU ticks by process (or group of processes) and of the machine.
pub(super) struct Snapshot {
    ticks: BTreeMap<String, u64>,
    machine: u64,
    /// Of the machine's busy ticks, those its hypervisor ran something
    /// else in: a virtual machine slowed by its neighbours shows it here.
    steal: u64,
}

/// The platform's own processes by name and pid, this process (the
/// bench's clients), and the servers it talks to by their command name.
pub(super) fn take(children: &[(String, u32)]) -> Snapshot {
    let mut ticks = BTreeMap::new();
    for (name, pid) in children {
        ticks.insert(name.clone(), process_ticks(*pid).unwrap_or(0));
    }
    ticks.insert(
        "bench clients".to_owned(),
        process_ticks(std::process::id()).unwrap_or(0),
    );
    for comm in ["postgres", "nats-server"] {
        ticks.insert(comm.to_owned(), ticks_of_command(comm));
    }
    let (machine, steal) = machine_busy().unwrap_or((0, 0));
    Snapshot {
        ticks,
        machine,
        steal,
    }
}

/// CPU milliseconds per item between two snapshots, by process, the
/// time stolen by the hypervisor, the rest of the machine (the kernel's
/// own threads) and the total (steal included).
pub(super) fn per_item(before: &Snapshot, after: &Snapshot, items: usize) -> Vec<(String, f64)> {
    let ms = |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1e3 / items.max(1) as f64;
    let mut out = Vec::new();
    let mut listed = 0;
    for (name, t) in &after.ticks {
        let spent = t.saturating_sub(before.ticks.get(name).copied().unwrap_or(0));
        listed += spent;
        out.push((name.clone(), ms(spent)));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    let machine = after.machine.saturating_sub(before.machine);
    let steal = after.steal.saturating_sub(before.steal);
    out.push(("steal".to_owned(), ms(steal)));
    out.push((
        "other".to_owned(),
        ms(machine.saturating_sub(listed).saturating_sub(steal)),
    ));
    out.push(("whole machine".to_owned(), ms(machine)));
    out
}

/// utime + stime of a process, all its threads included.
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: fields are
    // counted after its closing one (state is field 3, utime 14, stime 15).
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The ticks of every process running `comm` (PostgreSQL's backends).
fn ticks_of_command(comm: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .filter_map(process_ticks)
        .sum()
}

/// The machine's busy ticks, all cores (everything but idle and iowait),
/// and the steal among them.
fn machine_busy() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let all: u64 = v.iter().take(8).sum();
    Some((all - v.get(3)? - v.get(4)?, *v.get(7)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_loop_shows_in_this_process_and_the_machine() {
        let before = take(&[]);
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = take(&[]);
        let spent: BTreeMap<String, f64> = per_item(&before, &after, 1).into_iter().collect();
        // 300 ms of one core, counted in 10 ms ticks (and shared with
        // whatever else runs).
        assert!(spent["bench clients"] >= 200.0, "{spent:?}");
        assert!(
            spent["whole machine"] + 20.0 >= spent["bench clients"],
            "{spent:?}"
        );
    }
}
