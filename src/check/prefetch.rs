//! PromQL analysis that starts while the spec is still being read.
//!
//! On a large stack, parsing rule expressions and reading the YAML are the two
//! biggest costs, and the first used to wait for the second to finish. The
//! tree builder hands every rule expression to a `Prefetch` the moment its
//! scalar is read; worker threads analyse it while the builder goes on, and
//! when the checks need the results the calling thread joins in on whatever is
//! still queued. The results are what `promql::parse_raw` gives for the same
//! text, before any dialect step (the pinned release is not known while
//! reading; the index applies its dialect afterwards), so checks see exactly
//! what they would see without it; an expression the builder did not see (one
//! inside an alias) is simply analysed later.
//!
//! Identical expressions are analysed once and their result copied, which
//! costs less than a parse.

use super::promql::{Facts, PromqlError};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

type Analysed = Result<Facts, PromqlError>;

/// An analysis shared by the pipeline and the checks (one function, so the
/// prefetched results cannot differ from those computed later).
pub type Analyse = fn(&str) -> Analysed;

#[derive(Default)]
struct State {
    /// Texts submitted and not yet taken by a thread.
    queue: VecDeque<String>,
    /// How many times each text was submitted, and its result once known.
    seen: HashMap<String, (usize, Option<Analysed>)>,
    /// No more texts will come: idle workers may stop.
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    analyse: Analyse,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked poisoned the lock; the results it left are
        // still sound (each is written whole), so go on with them.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes queued texts and analyses them until the queue is empty; with
    /// `wait`, also waits for new ones until the queue is closed.
    fn drain(&self, wait: bool) {
        let mut state = self.lock();
        loop {
            if let Some(text) = state.queue.pop_front() {
                drop(state);
                let result = (self.analyse)(&text);
                state = self.lock();
                if let Some(entry) = state.seen.get_mut(&text) {
                    entry.1 = Some(result);
                }
                continue;
            }
            if state.closed || !wait {
                return;
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Analyses submitted expressions on worker threads while the caller goes on.
pub struct Prefetch {
    shared: Arc<Shared>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

/// Workers besides the thread that reads the YAML: the machine's other cores.
fn worker_count() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        - 1
}

impl Prefetch {
    /// Starts the workers (none on a single core: `finish` then does all the
    /// work, as if there were no pipeline).
    pub fn start(analyse: Analyse) -> Prefetch {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
            analyse,
        });
        let workers = (0..worker_count())
            .filter_map(|_| {
                let shared = Arc::clone(&shared);
                // A thread that cannot be started leaves its work to `finish`.
                std::thread::Builder::new()
                    .name("promql".into())
                    .spawn(move || shared.drain(true))
                    .ok()
            })
            .collect();
        Prefetch { shared, workers }
    }

    /// Queues `text` for analysis (once per distinct text).
    pub fn submit(&self, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        let mut state = self.shared.lock();
        if let Some(entry) = state.seen.get_mut(text) {
            entry.0 += 1;
            return;
        }
        state.seen.insert(text.to_string(), (1, None));
        state.queue.push_back(text.to_string());
        drop(state);
        self.shared.ready.notify_one();
    }

    /// No more texts: analyses what is still queued (on this thread and the
    /// workers), waits for the workers, and returns every result.
    pub fn finish(mut self) -> Prefetched {
        self.close();
        self.shared.drain(false);
        for worker in std::mem::take(&mut self.workers) {
            // A panic in the analysis is a bug; let it surface as it would
            // have without the pipeline.
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        let seen = std::mem::take(&mut self.shared.lock().seen);
        Prefetched {
            results: seen
                .into_iter()
                .filter_map(|(text, (uses, result))| Some((text, (uses, result?))))
                .collect(),
        }
    }
}

impl Prefetch {
    fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

/// A pipeline given up (the YAML did not parse) lets its workers finish what
/// they hold and stop; nobody waits for them.
impl Drop for Prefetch {
    fn drop(&mut self) {
        self.close();
    }
}

/// The results of a finished `Prefetch`, by expression text.
#[derive(Default)]
pub struct Prefetched {
    results: HashMap<String, (usize, Analysed)>,
}

impl Prefetched {
    /// The result for `text`, if it was analysed: moved out on its last use,
    /// copied before.
    pub fn take(&mut self, text: &str) -> Option<Analysed> {
        let (uses, result) = self.results.get_mut(text)?;
        if *uses > 1 {
            *uses -= 1;
            return Some(result.clone());
        }
        self.results.remove(text).map(|(_, result)| result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::promql::analyse;

    #[test]
    fn results_are_the_analysis_of_each_text_however_often_submitted() {
        let texts = [
            "up == 0",
            "rate(x[5m]) > 1",
            "sum(x) by job",
            "up == 0",
            "   ",
        ];
        let prefetch = Prefetch::start(analyse);
        for t in texts {
            prefetch.submit(t);
        }
        let mut done = prefetch.finish();
        for t in ["up == 0", "rate(x[5m]) > 1", "sum(x) by job", "up == 0"] {
            assert_eq!(done.take(t), Some(analyse(t)), "{t}");
        }
        // Each submission is one use; blank texts are never analysed.
        assert_eq!(done.take("up == 0"), None);
        assert_eq!(done.take("   "), None);
        assert_eq!(done.take("never submitted"), None);
    }

    #[test]
    fn finishing_without_submissions_is_empty() {
        let mut done = Prefetch::start(analyse).finish();
        assert_eq!(done.take("up"), None);
    }
}
