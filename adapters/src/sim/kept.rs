//! Bounded memory for the simulators: each keeps the most recent records it was
//! sent and counts those it has let go, so that a long load run cannot exhaust
//! the machine (a 10 KB dossier costs a simulator about 38 KB: its bytes, its
//! parsed form and the records built from it).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// How many records of each kind a simulator keeps unless told otherwise: well
/// above what any test sends, and about 400 MB for a simulator of 10 KB dossiers.
pub const DEFAULT_KEEP: usize = 10_000;

/// The most recent records, oldest first, at most `limit` of them.
#[derive(Debug, Clone)]
pub(crate) struct Recent<T> {
    items: VecDeque<T>,
    limit: usize,
    forgotten: u64,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Self::new(DEFAULT_KEEP)
    }
}

impl<T> Recent<T> {
    /// Keeps at most `limit` records (at least one).
    pub(crate) fn new(limit: usize) -> Self {
        Self { items: VecDeque::new(), limit: limit.max(1), forgotten: 0 }
    }

    /// Keeps `item`, letting the oldest go once over the limit.
    pub(crate) fn push(&mut self, item: T) {
        self.push_with(item, drop);
    }

    /// As [`push`](Self::push), handing each record let go to `gone`.
    fn push_with(&mut self, item: T, gone: impl FnMut(T)) {
        self.items.push_back(item);
        self.trim(gone);
    }

    /// Changes the limit, letting the oldest go at once if over it.
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.set_limit_with(limit, drop);
    }

    /// As [`set_limit`](Self::set_limit), handing each record let go to `gone`.
    fn set_limit_with(&mut self, limit: usize, gone: impl FnMut(T)) {
        self.limit = limit.max(1);
        self.trim(gone);
    }

    /// The records kept, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.items.iter()
    }

    /// How many records it keeps at most.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// How many records were let go.
    pub(crate) fn forgotten(&self) -> u64 {
        self.forgotten
    }

    fn trim(&mut self, mut gone: impl FnMut(T)) {
        while self.items.len() > self.limit {
            if let Some(oldest) = self.items.pop_front() {
                self.forgotten += 1;
                gone(oldest);
            }
        }
    }
}

impl<T: Clone> Recent<T> {
    /// A copy of the records kept, oldest first.
    pub(crate) fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }
}

/// A map that keeps the `limit` most recently inserted keys.
#[derive(Debug, Clone)]
pub(crate) struct RecentMap<K, V> {
    map: HashMap<K, V>,
    /// The keys in the order they were inserted: the map holds exactly these.
    order: Recent<K>,
}

impl<K, V> Default for RecentMap<K, V> {
    fn default() -> Self {
        Self { map: HashMap::new(), order: Recent::default() }
    }
}

impl<K: Hash + Eq + Clone, V> RecentMap<K, V> {
    /// Inserts or replaces the value of `key`; a new key lets the oldest go once
    /// over the limit. A replaced key keeps its place.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        if let Some(slot) = self.map.get_mut(&key) {
            *slot = value;
            return;
        }
        self.map.insert(key.clone(), value);
        let map = &mut self.map;
        self.order.push_with(key, |oldest| {
            map.remove(&oldest);
        });
    }

    /// Changes the limit (at least one), letting the oldest keys go at once if over it.
    pub(crate) fn set_limit(&mut self, limit: usize) {
        let map = &mut self.map;
        self.order.set_limit_with(limit, |oldest| {
            map.remove(&oldest);
        });
    }

    /// The value of `key`, if kept.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get(key)
    }

    /// The value of `key`, if kept, to change.
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_mut(key)
    }

    /// Whether `key` is kept.
    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_keeps_the_newest_and_counts_the_rest() {
        let mut r = Recent::new(3);
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!(r.to_vec(), vec![2, 3, 4]);
        assert_eq!(r.forgotten(), 2);
        r.push(5);
        r.push(6);
        assert_eq!((r.to_vec(), r.forgotten()), (vec![4, 5, 6], 4));
        r.set_limit(1);
        assert_eq!((r.to_vec(), r.forgotten()), (vec![6], 6));
        r.set_limit(0);
        r.push(7);
        assert_eq!(r.to_vec(), vec![7], "a limit of zero keeps one");
    }

    #[test]
    fn recent_map_lets_the_oldest_key_go_and_a_replaced_key_keeps_its_place() {
        let mut m = RecentMap::default();
        m.set_limit(2);
        m.insert("a", 1);
        m.insert("b", 2);
        m.insert("a", 10);
        assert_eq!((m.map.len(), m.get("a"), m.get("b")), (2, Some(&10), Some(&2)));
        m.insert("c", 3);
        assert!(!m.contains_key("a"), "the oldest inserted key goes first, replaced or not");
        assert_eq!((m.get("b"), m.get("c")), (Some(&2), Some(&3)));
        *m.get_mut("c").unwrap() += 1;
        m.set_limit(1);
        assert_eq!((m.map.len(), m.order.iter().count(), m.get("c")), (1, 1, Some(&4)));
    }
}
