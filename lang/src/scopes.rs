//! Lexical scopes inside one function: parameters, then `for` and `var` locals, innermost last.
//!
//! Every walk that resolves names (the checker, code generation) keeps one. A lookup costs the same
//! however many names are in scope, so a `var` with 100,000 names, or 3,000 nested loops, is linear to
//! check and to translate; a list searched from the end would make each of them quadratic.

use std::collections::HashMap;

/// The bindings in scope, each name to its innermost binding's value (`V`: a code generator's variable,
/// or nothing for a checker).
#[derive(Debug)]
pub struct Scopes<'a, V> {
    /// Each name's bindings, outermost first.
    bindings: HashMap<&'a str, Vec<V>>,
    /// The names in the order bound, so a scope can be left by unbinding what it added.
    order: Vec<&'a str>,
}

impl<V> Default for Scopes<'_, V> {
    fn default() -> Self {
        Scopes { bindings: HashMap::new(), order: Vec::new() }
    }
}

impl<'a, V: Copy> Scopes<'a, V> {
    /// Binds `name` to `value`, shadowing any outer binding of it.
    pub fn bind(&mut self, name: &'a str, value: V) {
        self.bindings.entry(name).or_default().push(value);
        self.order.push(name);
    }

    /// The innermost binding of `name`, if it is in scope.
    pub fn get(&self, name: &str) -> Option<V> {
        self.bindings.get(name).and_then(|values| values.last().copied())
    }

    /// Whether `name` is in scope.
    pub fn contains(&self, name: &str) -> bool {
        self.bindings.contains_key(name)
    }

    /// How many bindings are in scope: where a scope starts, to [`Scopes::leave`] it.
    pub fn depth(&self) -> usize {
        self.order.len()
    }

    /// Unbinds everything bound since `depth` (as [`Scopes::depth`] gave it).
    pub fn leave(&mut self, depth: usize) {
        while self.order.len() > depth {
            let Some(name) = self.order.pop() else { break };
            if let Some(values) = self.bindings.get_mut(name) {
                values.pop();
                if values.is_empty() {
                    self.bindings.remove(name);
                }
            }
        }
    }

    /// Unbinds everything (a new function).
    pub fn clear(&mut self) {
        self.bindings.clear();
        self.order.clear();
    }

    /// The names in scope, each once (in no particular order), for "did you mean".
    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.bindings.keys().copied()
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
}
