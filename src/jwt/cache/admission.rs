//! Admission: which verified tokens are worth a cache entry.
//!
//! The first `capacity` verified tokens are kept (the cache fills). After that, a token is kept
//! only on its **second** sighting: a doorkeeper (a small Bloom filter, as in TinyLFU)
//! remembers the hashes of tokens seen once. Under a flood of tokens that never come back (many
//! users, short-lived tokens, many instances), a miss then costs three bit tests and sets, not
//! an insert, an eviction and the drop of an evicted claim set; a token that repeats is kept on
//! its second presentation and hits from its third. The switch is counted in admissions, not
//! read from the cache (which would cost a look at every shard): a cache emptied by its TTL
//! still admits on a second sighting.
//!
//! The doorkeeper forgets everything after about as many first sightings as the cache holds
//! entries (it counts one in 16, chosen by hash), so it stays small (8 bits per cache entry)
//! and "seen before" means "seen recently". Clearing it is one store per 64 bits, on the
//! request that reaches the count: 2,048 stores (16 KiB, about a microsecond) for the default
//! cache of 10,000, once per about 10,000 misses, and up to 8 MiB of stores (a few hundred µs,
//! once per millions of misses) for the largest caches. A false positive only admits a one-time token (a little work, never a wrong
//! answer): admission decides what is kept, never what is accepted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Bits of the doorkeeper per cache entry.
const BITS_PER_ENTRY: u64 = 8;
/// Bits looked at per token.
const PROBES: u64 = 3;
/// The doorkeeper's smallest size, in 64-bit words.
const MIN_WORDS: u64 = 16;
/// Its largest size, in 64-bit words (8 MiB, enough for a cache of 8 million entries).
const MAX_WORDS: u64 = 1 << 20;
/// One first sighting in this many (a power of two) is counted towards the next clear.
const SAMPLE: u64 = 16;

/// Decides whether a verified token gets a cache entry.
pub(super) struct Admission {
    /// How many tokens may be admitted before the cache counts as full.
    room: u64,
    admitted: AtomicU64,
    full: AtomicBool,
    /// The doorkeeper: a Bloom filter of tokens seen once since the last clear.
    bits: Box<[AtomicU64]>,
    /// How many counted first sightings the doorkeeper takes before it is cleared.
    sightings_per_clear: u64,
    sightings: AtomicU64,
}

impl Admission {
    /// Admission for a cache of `capacity` entries.
    pub(super) fn new(capacity: u64) -> Self {
        let words = (capacity.saturating_mul(BITS_PER_ENTRY) / 64)
            .clamp(MIN_WORDS, MAX_WORDS)
            .next_power_of_two();
        Admission {
            room: capacity,
            admitted: AtomicU64::new(0),
            full: AtomicBool::new(false),
            bits: (0..words).map(|_| AtomicU64::new(0)).collect(),
            sightings_per_clear: (capacity / SAMPLE).max(1),
            sightings: AtomicU64::new(0),
        }
    }

    /// Whether a verified token with this `hash` should be kept. Counts it as seen.
    pub(super) fn admit(&self, hash: u64) -> bool {
        if !self.full.load(Ordering::Relaxed) {
            if self.admitted.fetch_add(1, Ordering::Relaxed) < self.room {
                return true;
            }
            self.full.store(true, Ordering::Relaxed);
        }
        self.seen_before(hash)
    }

    /// Marks `hash` as seen; `true` if it (or a token sharing its bits) was seen since the last
    /// clear.
    fn seen_before(&self, hash: u64) -> bool {
        let words = self.bits.len() as u64;
        let bit_count = words * 64;
        // Double hashing: probe i looks at h1 + i·h2 (h2 odd, so the probes differ).
        let h1 = hash;
        let h2 = hash.rotate_left(32) | 1;
        let mut all_set = true;
        for i in 0..PROBES {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) & (bit_count - 1);
            let mask = 1u64 << (bit % 64);
            if let Some(word) = self.bits.get((bit / 64) as usize) {
                all_set &= word.fetch_or(mask, Ordering::Relaxed) & mask != 0;
            }
        }
        // First sightings are counted one in SAMPLE (those whose hash has its top bits clear):
        // the counter is shared by all threads, and a write to it on every miss would bounce
        // its cache line between cores.
        if !all_set
            && hash >> (64 - SAMPLE.trailing_zeros()) == 0
            && self.sightings.fetch_add(1, Ordering::Relaxed) + 1 >= self.sightings_per_clear
        {
            self.sightings.store(0, Ordering::Relaxed);
            for word in self.bits.iter() {
                word.store(0, Ordering::Relaxed);
            }
        }
        all_set
    }
}

#[cfg(test)]
mod tests {
    use super::Admission;

    #[test]
    fn tokens_are_admitted_while_there_is_room_then_on_their_second_sighting() {
        let a = Admission::new(2);
        assert!(a.admit(1) && a.admit(2), "room for two");
        assert!(!a.admit(0xdead_beef_0000_0001), "full: first sighting");
        assert!(a.admit(0xdead_beef_0000_0001), "second sighting");
        assert!(!a.admit(0x1234_5678_9abc_def1), "another first sighting");
    }

    #[test]
    fn the_doorkeeper_forgets_after_about_as_many_first_sightings_as_the_cache_holds() {
        // 64 entries: cleared after 64 / 16 = 4 counted first sightings.
        let a = Admission::new(64);
        for h in 0..64 {
            assert!(a.admit(h));
        }
        // Hashes whose top 4 bits are clear are the counted ones.
        let counted = |i: u64| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 4;
        let uncounted = |i: u64| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 0xf << 60;
        let once = counted(1);
        assert!(!a.admit(once), "counted: 1");
        for i in 1..100 {
            assert!(!a.admit(uncounted(i)), "not counted");
        }
        assert!(
            a.admit(once),
            "still remembered: uncounted sightings do not clear"
        );
        for i in 2..=4 {
            assert!(!a.admit(counted(i)), "counted: {i}");
        }
        assert!(!a.admit(once), "forgotten after the clear");
    }

    #[test]
    fn one_time_hashes_are_rarely_admitted() {
        // 10,000 distinct well-mixed hashes against a full cache of 10,000: the Bloom filter's
        // false positives stay a few percent.
        let a = Admission::new(10_000);
        for h in 0..10_000u64 {
            a.admit(h);
        }
        let admitted = (1..=10_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5555)
            .filter(|h| a.admit(*h))
            .count();
        assert!(
            admitted < 500,
            "{admitted} of 10,000 one-time tokens admitted"
        );
    }
}
