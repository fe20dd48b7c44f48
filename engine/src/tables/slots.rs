//! The indirection table: one slot per (function name, number of arguments a call passes), each a cell
//! holding the address of the code such a call reaches.
//!
//! This one structure owns the cells, what each is for, and the lookup by name; nothing else keeps a copy.
//! Cells never move (JIT code embeds their addresses), and a slot is never removed except by rolling back
//! the entry that created it.

use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::rc::Rc;

use crate::base::ids::{SlotAddr, SlotId};
use crate::machine::cells::StableCells;
use crate::tables::names::{Name, Names};

/// The slots, their keys and the lookup by name.
pub(crate) struct SlotTable {
    cells: StableCells<AtomicUsize>,
    /// Slot `i` is for calls to `keys[i].0` passing `keys[i].1` arguments.
    keys: Vec<(Name, usize)>,
    /// name -> (arity, slot), sorted by arity. Nearly every name has one arity, kept inline (100,000
    /// definitions hold 100,000 of these).
    by_name: HashMap<Name, Arities>,
    /// Where its names come from.
    names: Rc<Names>,
}

impl SlotTable {
    /// An empty table whose names are interned in `names`.
    pub(crate) fn new(names: Rc<Names>) -> SlotTable {
        SlotTable { cells: StableCells::default(), keys: Vec::new(), by_name: HashMap::default(), names }
    }

    /// The slot for calls to `name` passing `arity` arguments, if one exists.
    pub(crate) fn get(&self, name: &str, arity: usize) -> Option<SlotId> {
        let arities = self.by_name.get(name)?;
        arities.as_slice().iter().find(|(a, _)| *a == arity).map(|&(_, slot)| slot)
    }

    /// The slot for calls to `name` passing `arity` arguments, created (pointing nowhere) if new.
    pub(crate) fn get_or_create(&mut self, name: &str, arity: usize) -> SlotId {
        if let Some(slot) = self.get(name, arity) {
            return slot;
        }
        let slot = SlotId(self.cells.push());
        let name = self.names.intern(name);
        self.keys.push((name.clone(), arity));
        match self.by_name.entry(name) {
            std::collections::hash_map::Entry::Occupied(mut known) => known.get_mut().insert(arity, slot),
            std::collections::hash_map::Entry::Vacant(new) => {
                new.insert(Arities::One((arity, slot)));
            }
        }
        slot
    }

    /// Every slot of `name`, by arity (a copy, so the caller may change the table meanwhile; nothing is
    /// allocated for a name of one arity).
    pub(crate) fn of_name(&self, name: &str) -> impl Iterator<Item = (usize, SlotId)> + use<> {
        let arities = self.by_name.get(name).cloned();
        arities.into_iter().flat_map(|arities| match arities {
            Arities::One(pair) => Some(pair).into_iter().chain(Vec::new()),
            Arities::Many(all) => None.into_iter().chain(all),
        })
    }

    /// The cell's address, as JIT code embeds it.
    /// The address of `slot`, typed: what the lazy compiler keys its bodies by.
    pub(crate) fn slot_addr(&self, slot: SlotId) -> SlotAddr {
        SlotAddr(self.address(slot))
    }

    pub(crate) fn address(&self, slot: SlotId) -> usize {
        self.cells.address(slot.0)
    }

    /// The slot whose cell is at `address`.
    pub(crate) fn at_address(&self, address: usize) -> Option<SlotId> {
        self.cells.index_of(address).map(SlotId)
    }

    /// What the slot is for: (name, arity).
    pub(crate) fn key(&self, slot: SlotId) -> (&str, usize) {
        let (name, arity) = &self.keys[slot.index()];
        (name, *arity)
    }

    /// The interned name of the slot's key (the index and every other table share it).
    #[cfg(test)]
    pub(crate) fn key_name(&self, slot: SlotId) -> &Name {
        &self.keys[slot.index()].0
    }

    /// Where the slot points now.
    pub(crate) fn target(&self, slot: SlotId) -> usize {
        self.cells.get(slot.0).load(Ordering::SeqCst)
    }

    /// Points the slot at `target`; every call through it from now on goes there.
    pub(crate) fn repoint(&self, slot: SlotId, target: usize) {
        self.cells.get(slot.0).store(target, Ordering::SeqCst);
    }

    /// The cells (to copy them to an executor in another process image).
    pub(crate) fn cells(&self) -> &StableCells<AtomicUsize> {
        &self.cells
    }

    /// How many slots exist (a mark to roll back to).
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The slots created since `len` (by the entry being applied).
    pub(crate) fn since(&self, len: usize) -> impl Iterator<Item = SlotId> + use<> {
        (len..self.keys.len()).map(|i| SlotId(i as u32))
    }

    /// Forgets every slot from `len` on (an entry that failed to compile gives back what it took).
    pub(crate) fn truncate(&mut self, len: usize) {
        for (name, arity) in self.keys.drain(len..) {
            if let Some(arities) = self.by_name.get_mut(&name)
                && arities.remove(arity)
            {
                self.by_name.remove(&name);
            }
        }
        self.cells.truncate(len);
    }
}

/// The slots of one name, by arity: one inline (nearly every name), or several, sorted.
#[derive(Clone)]
enum Arities {
    One((usize, SlotId)),
    Many(Vec<(usize, SlotId)>),
}

impl Arities {
    fn as_slice(&self) -> &[(usize, SlotId)] {
        match self {
            Arities::One(pair) => std::slice::from_ref(pair),
            Arities::Many(all) => all,
        }
    }

    /// Adds the slot for `arity` (which has none yet).
    fn insert(&mut self, arity: usize, slot: SlotId) {
        let mut all = self.as_slice().to_vec();
        let at = all.partition_point(|(a, _)| *a < arity);
        all.insert(at, (arity, slot));
        *self = Arities::Many(all);
    }

    /// Removes the slot for `arity`; whether none is left.
    fn remove(&mut self, arity: usize) -> bool {
        match self {
            Arities::One((only, _)) => *only == arity,
            Arities::Many(all) => {
                all.retain(|(a, _)| *a != arity);
                all.is_empty()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slot_per_name_and_arity_and_rollback_forgets_new_ones() {
        let mut table = SlotTable::new(Rc::default());
        let f1 = table.get_or_create("f", 1);
        assert_eq!(table.get_or_create("f", 1), f1);
        let mark = table.len();
        let f2 = table.get_or_create("f", 2);
        let g = table.get_or_create("g", 0);
        assert_eq!(table.of_name("f").collect::<Vec<_>>(), vec![(1, f1), (2, f2)]);
        assert_eq!(table.at_address(table.address(g)), Some(g));
        assert_eq!(table.key(f2), ("f", 2));
        table.truncate(mark);
        assert_eq!(table.of_name("f").collect::<Vec<_>>(), vec![(1, f1)]);
        assert_eq!(table.get("g", 0), None);
        assert_eq!(table.get_or_create("g", 0), f2, "the cell is handed out again");
    }
}
