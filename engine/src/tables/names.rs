//! Interned names: each function name the session has seen is stored once, and every table that keys
//! or lists by it (the index, its order, the slot table, code origins) holds a pointer to that one copy.
//!
//! A name is never removed: a rolled-back entry may leave one behind, which costs its bytes and nothing
//! else (no table lists it).

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashSet as HashSet;

/// A name, shared by every table that holds it.
pub type Name = Rc<str>;

/// The interner, shared by the tables (behind an `Rc`, interior mutability: a lookup that finds a new
/// name adds it).
#[derive(Default)]
pub(crate) struct Names {
    set: RefCell<HashSet<Name>>,
}

impl Names {
    /// The one copy of `name`, made if new.
    pub(crate) fn intern(&self, name: &str) -> Name {
        let mut set = self.set.borrow_mut();
        if let Some(name) = set.get(name) {
            return name.clone();
        }
        let name: Name = Rc::from(name);
        set.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_name() {
        let names = Names::default();
        let a = names.intern("fib");
        assert!(Rc::ptr_eq(&a, &names.intern("fib")));
        assert!(!Rc::ptr_eq(&a, &names.intern("fob")));
    }
}
