//! Questions about the call graph: can a function reach itself through its callees, and which functions
//! lie on the cycles through it. Mutual recursion (`even` calls `odd`, `odd` calls `even`) is as hot as a
//! function that calls itself, so its baseline code counts calls too (see `Staging::counts_calls`).
//!
//! A definition is checked as it is entered, so the search must not cost the session's size: a chain of
//! 10,000 functions, each calling the one before, would make that quadratic. The search goes both ways
//! at once, forward from the function's callees and backward from its callers, one step on the smaller
//! side at a time, and stops as soon as a side runs out (no cycle: the common case, where one side is
//! empty at once) or the two meet (a cycle). Its cost is about twice the smaller side's.

use std::collections::{HashSet, VecDeque};

use crate::tables::index::{FunctionState, Index};

/// The graph as a question answers it: who `name` calls, and who calls it.
pub(crate) trait CallGraph {
    /// The functions `name` calls (by name).
    fn callees(&self, name: &str) -> Vec<String>;
    /// The functions that call `name`.
    fn callers(&self, name: &str) -> Vec<String>;
}

impl CallGraph for Index {
    fn callees(&self, name: &str) -> Vec<String> {
        let info = self.get(name).filter(|info| info.state == FunctionState::Defined);
        info.map(|info| info.calls.iter().map(|(callee, _)| callee.clone()).collect()).unwrap_or_default()
    }

    fn callers(&self, name: &str) -> Vec<String> {
        self.callers_of(name).into_iter().map(|(caller, _)| caller).collect()
    }
}

/// One step through the graph: a function's callees, or its callers.
type Step = fn(&dyn CallGraph, &str) -> Vec<String>;

/// Whether `start` can reach itself through calls to other functions (its calls to itself aside: the
/// caller sees those in the body).
pub(crate) fn on_a_cycle(graph: &dyn CallGraph, start: &str) -> bool {
    let others = |names: Vec<String>| names.into_iter().filter(|name| name != start).collect();
    let mut forward = Frontier::new(others(graph.callees(start)));
    // A function that calls nothing else (most one-liners) is on no cycle: its callers need not be asked.
    if forward.queue.is_empty() {
        return false;
    }
    let mut backward = Frontier::new(others(graph.callers(start)));
    if forward.seen.iter().any(|name| backward.seen.contains(name)) {
        return true;
    }
    loop {
        let (side, other, step): (&mut Frontier, &Frontier, Step) = if forward.queue.len() <= backward.queue.len() {
            (&mut forward, &backward, |g, n| g.callees(n))
        } else {
            (&mut backward, &forward, |g, n| g.callers(n))
        };
        let Some(name) = side.queue.pop_front() else { return false };
        for next in step(graph, &name) {
            if next == start || other.seen.contains(&next) {
                return true;
            }
            side.visit(next);
        }
    }
}

/// The functions on the cycles through `start`: those it reaches that also reach it (itself aside). Only
/// asked once [`on_a_cycle`] said yes; the cost is what `start` reaches both ways.
pub(crate) fn cycle_through(graph: &dyn CallGraph, start: &str) -> Vec<String> {
    let reached = reach(graph, start, |g, n| g.callees(n));
    let reaching = reach(graph, start, |g, n| g.callers(n));
    let mut members: Vec<String> = reached.intersection(&reaching).filter(|name| *name != start).cloned().collect();
    members.sort();
    members
}

/// Every function reachable from `start` by `step` (calls, or callers).
fn reach(graph: &dyn CallGraph, start: &str, step: Step) -> HashSet<String> {
    let mut frontier = Frontier::new(step(graph, start));
    while let Some(name) = frontier.queue.pop_front() {
        for next in step(graph, &name) {
            frontier.visit(next);
        }
    }
    frontier.seen
}

/// One side of a search: what it has seen, and what it has yet to expand.
struct Frontier {
    seen: HashSet<String>,
    queue: VecDeque<String>,
}

impl Frontier {
    fn new(first: Vec<String>) -> Frontier {
        let mut frontier = Frontier { seen: HashSet::new(), queue: VecDeque::new() };
        for name in first {
            frontier.visit(name);
        }
        frontier
    }

    fn visit(&mut self, name: String) {
        if self.seen.insert(name.clone()) {
            self.queue.push_back(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Edges(HashMap<&'static str, Vec<&'static str>>);

    impl CallGraph for Edges {
        fn callees(&self, name: &str) -> Vec<String> {
            self.0.get(name).map(|c| c.iter().map(|s| s.to_string()).collect()).unwrap_or_default()
        }
        fn callers(&self, name: &str) -> Vec<String> {
            (self.0.iter())
                .filter(|(_, callees)| callees.contains(&name))
                .map(|(caller, _)| caller.to_string())
                .collect()
        }
    }

    #[test]
    fn finds_mutual_recursion_and_its_members_but_not_a_chain() {
        let graph = Edges(HashMap::from([
            ("even", vec!["odd"]),
            ("odd", vec!["even", "helper"]),
            ("main", vec!["even"]),
            ("helper", vec![]),
            ("f2", vec!["f1"]),
            ("f1", vec!["f0"]),
            ("self", vec!["self"]),
        ]));
        assert!(on_a_cycle(&graph, "even") && on_a_cycle(&graph, "odd"));
        assert!(!on_a_cycle(&graph, "main") && !on_a_cycle(&graph, "f1") && !on_a_cycle(&graph, "helper"));
        assert!(!on_a_cycle(&graph, "self"), "a call to itself is the body's to see");
        assert_eq!(cycle_through(&graph, "odd"), vec!["even".to_string()]);
    }
}
