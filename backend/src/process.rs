//! This process as the outbox's claims name it, and whether the process behind a claim is
//! provably dead.
//!
//! A claim records the claimer's pid and the pid namespace that pid belongs to (the kernel's boot
//! id and the namespace's inode, both read from `/proc`). A process in the same namespace can
//! look the pid up: no such process, or a zombie, means the claimer can send nothing any more,
//! so its claims are released at once instead of waiting out the lease. Everything else keeps
//! the claim until its lease runs out: a live pid (the claimer, or a stranger that reused its
//! pid), another machine or container, a system without `/proc`. Erring that way costs only
//! time; releasing the claim of a live sender could send a message twice.

use std::sync::OnceLock;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The identity a claim records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimer {
    /// For people, and unique per process: pid, host name and start time
    /// (`pid 4242 on web-1, started 2026-11-30T17:00:00.123456Z`).
    pub label: String,
    pub pid: u32,
    /// Where [`Claimer::pid`] names this process: boot id and pid namespace; `None` when unknown.
    pub namespace: Option<String>,
}

impl Claimer {
    /// This process, computed once.
    pub fn current() -> &'static Claimer {
        static CURRENT: OnceLock<Claimer> = OnceLock::new();
        CURRENT.get_or_init(|| {
            let pid = std::process::id();
            let host = read_trimmed("/proc/sys/kernel/hostname")
                .or_else(|| std::env::var("HOSTNAME").ok())
                .unwrap_or_else(|| "an unnamed host".to_owned());
            let started = OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default();
            Claimer {
                label: format!("pid {pid} on {host}, started {started}"),
                pid,
                namespace: pid_namespace(),
            }
        })
    }

    /// Whether the claimer `label` (`pid` in `namespace`) has certainly ended, as far as this
    /// process can see.
    pub fn sees_dead(&self, label: &str, pid: i64, namespace: &str) -> bool {
        if self.namespace.as_deref() != Some(namespace) || label == self.label {
            return false;
        }
        // Our own pid under another label: the claimer ended and the kernel gave us its pid.
        pid == i64::from(self.pid) || !is_running(pid)
    }
}

/// `boot id/pid namespace inode`, or `None` without `/proc`.
fn pid_namespace() -> Option<String> {
    let boot = read_trimmed("/proc/sys/kernel/random/boot_id")?;
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(format!("{boot}/{}", ns.display()))
}

/// Whether `pid` is a process that can still run (not gone, not a zombie) in our namespace.
/// Anything unreadable counts as running.
fn is_running(pid: i64) -> bool {
    if pid <= 0 {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may contain any byte.
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next()),
            Some('Z' | 'X')
        ),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_that_has_exited_and_been_reaped_is_dead() {
        let me = Claimer::current();
        let Some(ns) = me.namespace.clone() else {
            panic!("these tests need Linux's /proc");
        };
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i64::from(child.id());
        child.wait().unwrap();
        assert!(me.sees_dead("pid of true", pid, &ns));
    }

    #[test]
    fn a_running_process_is_not_dead() {
        let me = Claimer::current();
        let ns = me.namespace.clone().unwrap();
        let parent = i64::from(std::os::unix::process::parent_id());
        assert!(!me.sees_dead("the parent", parent, &ns));
        assert!(!me.sees_dead(&me.label, i64::from(me.pid), &ns));
    }

    #[test]
    fn our_pid_under_another_label_is_a_dead_predecessor() {
        let me = Claimer::current();
        let ns = me.namespace.clone().unwrap();
        assert!(me.sees_dead("an earlier process", i64::from(me.pid), &ns));
    }

    #[test]
    fn a_claimer_elsewhere_is_never_judged() {
        let me = Claimer::current();
        assert!(!me.sees_dead("elsewhere", 999_999_999, "another-boot/pid:[1]"));
    }

    #[test]
    fn a_zombie_is_dead() {
        let me = Claimer::current();
        let ns = me.namespace.clone().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i64::from(child.id());
        // Not reaped yet: wait until the kernel shows it as a zombie.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while is_running(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(me.sees_dead("zombie", pid, &ns));
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
        child.wait().unwrap();
    }
}
