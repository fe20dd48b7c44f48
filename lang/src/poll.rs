//! Stopping a long pass: every walk over an entry (lexing, parsing, checking, and the engine's translation)
//! counts its steps and asks every few thousand whether it should stop, so Ctrl-C during a 100 MB entry
//! is acted on at once rather than when the entry is done.

/// How many steps pass between two questions: the question is an atomic load, so this keeps its cost out
/// of sight, and a step is well under a microsecond, so an interrupt waits a few milliseconds at most.
const STEPS: u32 = 4096;

/// A pass's way to ask whether it should stop.
pub struct Poll<'a> {
    stop: &'a dyn Fn() -> bool,
    countdown: u32,
    stopped: bool,
}

impl<'a> Poll<'a> {
    /// Asks `stop` every few thousand steps.
    pub fn new(stop: &'a dyn Fn() -> bool) -> Poll<'a> {
        Poll { stop, countdown: STEPS, stopped: false }
    }

    /// Counts one step; whether the pass is to stop (once it is, it stays so).
    pub fn tick(&mut self) -> bool {
        if self.stopped {
            return true;
        }
        self.countdown -= 1;
        if self.countdown == 0 {
            self.countdown = STEPS;
            self.stopped = (self.stop)();
        }
        self.stopped
    }

    /// Whether the pass was told to stop.
    pub fn stopped(&self) -> bool {
        self.stopped
    }
}

impl Poll<'static> {
    /// A poll that never stops the pass.
    pub fn never() -> Poll<'static> {
        Poll::new(&|| false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_every_few_thousand_steps_and_stays_stopped() {
        let asked = std::cell::Cell::new(0);
        let stop = || {
            asked.set(asked.get() + 1);
            asked.get() >= 2
        };
        let mut poll = Poll::new(&stop);
        let first = (0..STEPS).map(|_| poll.tick()).filter(|&stopped| stopped).count();
        assert_eq!((first, asked.get()), (0, 1));
        assert!((0..STEPS).any(|_| poll.tick()));
        assert!(poll.tick() && poll.stopped());
        assert_eq!(asked.get(), 2, "asked no more once stopped");
        assert!(!(0..10 * STEPS).any(|_| Poll::never().tick()));
    }
}
