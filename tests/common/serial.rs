//! Keeps apart the test areas that must not overlap now that every area runs
//! in one process (`tests/it`, one binary). When each file was its own test
//! binary, cargo ran the binaries one after another, so the real-engine suites
//! never shared the Docker engine with each other and a test timing a bound
//! never ran next to a whole stack starting. A test of such an area holds its
//! area's [`Gate`] while it runs: tests of the same area still run in parallel
//! (as they did inside their own binary), tests of another gated area wait.
//! Areas without a gate run alongside anything, as before within a binary.

use std::sync::{Condvar, Mutex, PoisonError};

/// Which gated area holds the gate, and how many of its tests are running.
static HOLDER: Mutex<Option<(&'static str, usize)>> = Mutex::new(None);
static RELEASED: Condvar = Condvar::new();

/// Held by a running test of one area; dropping it (the test ended, passed
/// or panicked) lets the next area in once the last test of this one is done.
#[must_use = "the gate is released when this value is dropped"]
pub struct Gate {
    area: &'static str,
}

/// Waits until no test of another gated area runs, then enters `area`.
pub fn gate(area: &'static str) -> Gate {
    let mut holder = HOLDER.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        match holder.as_mut() {
            None => {
                *holder = Some((area, 1));
                break;
            }
            Some((current, running)) if *current == area => {
                *running += 1;
                break;
            }
            Some(_) => {
                holder = RELEASED
                    .wait(holder)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
    Gate { area }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let mut holder = HOLDER.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((current, running)) = holder.as_mut() {
            debug_assert_eq!(*current, self.area);
            *running -= 1;
            if *running == 0 {
                *holder = None;
                RELEASED.notify_all();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    // Two areas never overlap; two tests of one area do.
    #[test]
    fn serial_gate_keeps_areas_apart_and_lets_one_area_run_together() {
        static IN_A: AtomicUsize = AtomicUsize::new(0);
        static IN_B: AtomicUsize = AtomicUsize::new(0);
        static MAX_A: AtomicUsize = AtomicUsize::new(0);
        let run = |area: &'static str| {
            let _gate = gate(area);
            let (mine, other) = if area == "serial-test-a" {
                (&IN_A, &IN_B)
            } else {
                (&IN_B, &IN_A)
            };
            let now = mine.fetch_add(1, Ordering::SeqCst) + 1;
            if area == "serial-test-a" {
                MAX_A.fetch_max(now, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(other.load(Ordering::SeqCst), 0, "{area} overlapped");
            mine.fetch_sub(1, Ordering::SeqCst);
        };
        std::thread::scope(|s| {
            // Both A's start together (the second joins the first), then B.
            let a1 = s.spawn(|| run("serial-test-a"));
            let a2 = s.spawn(|| run("serial-test-a"));
            std::thread::sleep(Duration::from_millis(10));
            let b = s.spawn(|| run("serial-test-b"));
            for t in [a1, a2, b] {
                t.join().expect("no overlap");
            }
        });
        assert_eq!(MAX_A.load(Ordering::SeqCst), 2, "one area runs together");
    }
}
