//! Lexical scopes inside one function: parameters, then `for` and `var` locals, innermost last.
//!
//! Every walk that resolves names (the checker, code generation) keeps one. A lookup costs the same
//! however many names are in scope, so a `var` with 100,000 names, or 3,000 nested loops, is linear to
//! check and to translate; a list searched from the end would make each of them quadratic.

use std::collections::HashMap;

/// Up to this many bindings a lookup searches them from the innermost (a function's few parameters and
/// locals: no table to build for a one-liner); beyond it, a table by name keeps every lookup O(1).
const SEARCHED_UP_TO: usize = 16;

/// The bindings in scope, each name to its innermost binding's value (`V`: a code generator's variable,
/// or nothing for a checker).
#[derive(Debug)]
pub struct Scopes<'a, V> {
    /// Every binding in scope, in the order bound (innermost last).
    stack: Vec<(&'a str, V)>,
    /// Once more than [`SEARCHED_UP_TO`] are bound: each name's positions in `stack`, outermost first.
    by_name: Option<HashMap<&'a str, Vec<usize>>>,
}

impl<V> Default for Scopes<'_, V> {
    fn default() -> Self {
        Scopes { stack: Vec::new(), by_name: None }
    }
}

impl<'a, V: Copy> Scopes<'a, V> {
    /// Binds `name` to `value`, shadowing any outer binding of it.
    pub fn bind(&mut self, name: &'a str, value: V) {
        self.stack.push((name, value));
        let at = self.stack.len() - 1;
        match &mut self.by_name {
            Some(by_name) => by_name.entry(name).or_default().push(at),
            None if self.stack.len() > SEARCHED_UP_TO => {
                let mut by_name: HashMap<&'a str, Vec<usize>> = HashMap::new();
                for (i, (name, _)) in self.stack.iter().enumerate() {
                    by_name.entry(name).or_default().push(i);
                }
                self.by_name = Some(by_name);
            }
            None => {}
        }
    }

    /// The innermost binding of `name`, if it is in scope.
    pub fn get(&self, name: &str) -> Option<V> {
        match &self.by_name {
            Some(by_name) => by_name.get(name).and_then(|at| at.last()).map(|&i| self.stack[i].1),
            None => self.stack.iter().rev().find(|(bound, _)| *bound == name).map(|&(_, value)| value),
        }
    }

    /// Whether `name` is in scope.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// How many bindings are in scope: where a scope starts, to [`Scopes::leave`] it.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// Unbinds everything bound since `depth` (as [`Scopes::depth`] gave it).
    pub fn leave(&mut self, depth: usize) {
        while self.stack.len() > depth {
            let Some((name, _)) = self.stack.pop() else { break };
            if let Some(by_name) = &mut self.by_name
                && let Some(at) = by_name.get_mut(name)
            {
                at.pop();
                if at.is_empty() {
                    by_name.remove(name);
                }
            }
        }
    }

    /// Unbinds everything (a new function).
    pub fn clear(&mut self) {
        self.stack.clear();
        self.by_name = None;
    }

    /// The names in scope (a shadowed one more than once), for "did you mean".
    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.stack.iter().map(|&(name, _)| name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_bindings_shadow_outer_ones_until_their_scope_is_left() {
        let mut scopes = Scopes::default();
        scopes.bind("x", 1);
        let outer = scopes.depth();
        scopes.bind("x", 2);
        scopes.bind("y", 3);
        assert_eq!((scopes.get("x"), scopes.get("y")), (Some(2), Some(3)));
        scopes.leave(outer);
        assert_eq!((scopes.get("x"), scopes.get("y")), (Some(1), None));
        assert!(!scopes.contains("y"));
        scopes.clear();
        assert_eq!(scopes.get("x"), None);
    }

    #[test]
    fn many_bindings_are_found_by_name_and_left_in_order() {
        let names: Vec<String> = (0..100).map(|i| format!("v{}", i % 40)).collect();
        let mut scopes = Scopes::default();
        for (i, name) in names.iter().enumerate() {
            scopes.bind(name, i);
        }
        assert_eq!((scopes.get("v3"), scopes.get("v39"), scopes.get("v40")), (Some(83), Some(79), None));
        scopes.leave(50);
        assert_eq!((scopes.get("v3"), scopes.get("v12")), (Some(43), Some(12)));
        scopes.leave(10);
        assert_eq!((scopes.get("v3"), scopes.get("v12")), (Some(3), None));
    }
}
