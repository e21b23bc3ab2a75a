/*
 * Rendezvous (highest random weight) hashing, for --sticky: every candidate unit has a slot
 * number, each (key, slot) pair gets a pseudo-random score, and the key goes to the candidate
 * whose slot scores highest. Removing a slot moves only the keys that slot held (each to its
 * own second choice); adding one takes from every other slot in proportion and moves nothing
 * else. So a crashed worker's replacement, which takes the same slot, gets exactly its
 * predecessor's clients back, and TTIN/TTOU moves about 1/N of them. The same key always
 * scores the same, in every process and across restarts.
 *
 * `seed` separates levels that hash the same key: hybrid's master picks a process and that
 * process then picks a thread by the same client address; without distinct seeds both picks
 * would follow one ordering of slot numbers, and a process would only ever use its matching
 * thread.
 */

/** The score of `slot` for `key`: FNV-1a over seed, key and slot, then murmur3's finalizer to spread the bits. */
export function rendezvousScore(key: string, slot: number, seed: string): number {
  let hash = 0x811c9dc5;
  const text = `${seed}\u0000${key}\u0000${slot}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * The candidate for `key`: the one whose slot scores highest (a tie between slots goes to the
 * lower slot). Candidates that share a slot (an old and a new unit during a reload) are told
 * apart by `prefer`, which returns a positive number when its first argument is the better.
 */
export function rendezvousPick<T>(
  key: string, seed: string, candidates: Iterable<T>, slotOf: (candidate: T) => number, prefer: (a: T, b: T) => number = () => 0,
): T | null {
  let best: T | null = null;
  let bestScore = -1;
  let bestSlot = -1;
  for (const candidate of candidates) {
    const slot = slotOf(candidate);
    const score = slot === bestSlot ? bestScore : rendezvousScore(key, slot, seed);
    const wins = best === null || score > bestScore || (score === bestScore && (slot < bestSlot || (slot === bestSlot && prefer(candidate, best) > 0)));
    if (wins) { best = candidate; bestScore = score; bestSlot = slot; }
  }
  return best;
}

/** The lowest slot number not in `taken`: a replacement unit takes the slot its predecessor left. */
export function freeSlot(taken: Iterable<number>): number {
  const used = new Set(taken);
  let slot = 0;
  while (used.has(slot)) slot++;
  return slot;
}
