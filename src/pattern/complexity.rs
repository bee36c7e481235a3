//! Wildcard complexity, as EventBridge judges it when a rule is created.
//!
//! event-ruler (`MachineComplexityEvaluator`) measures how non-deterministic the
//! wildcard tests of one field are: the largest number of *wildcard prefixes*
//! that a single input can leave active at once. A wildcard prefix is the pattern
//! up to one of its characters or stars, such as `a*`, `a*b` and `a*b*` for
//! `a*b*c`; it is active after an input when it matches all of that input. So
//! `*aa` scores 3 (after `aa`, the prefixes `*`, `*a` and `*aa` all match), and
//! `*:*:*` scores more the more colons a value holds. Every wildcard test of the
//! field counts (`wildcard` and `anything-but` `wildcard`), across all values
//! arrays and the `$or` branches that agree on the fields sorted before it (they
//! share one byte machine in event-ruler; the caller groups them); an identical
//! wildcard counts once.
//! As in event-ruler, wildcards are measured with the double quotes that
//! surround string values (`"*aa"`), and prefixes shared by the values of one
//! `anything-but` list are one state.
//!
//! The measure explores the subsets of prefixes that inputs can reach (one input
//! byte at a time, bytes that no wildcard names standing for all others) and
//! stops as soon as the limit is passed.

use std::collections::{HashMap, HashSet, VecDeque};

use super::text::Wildcard;

/// One token of a quoted wildcard: a literal byte, or a star.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Token {
    Byte(u8),
    Star,
}

/// The tokens of `"` + wildcard + `"`, escapes resolved.
fn tokens(wildcard: &Wildcard) -> Vec<Token> {
    let mut out = vec![Token::Byte(b'"')];
    for (i, piece) in wildcard.pieces.iter().enumerate() {
        if i > 0 {
            out.push(Token::Star);
        }
        out.extend(piece.bytes().map(Token::Byte));
    }
    out.push(Token::Byte(b'"'));
    out
}

/// Most subsets explored before giving up and calling the field too complex
/// (real patterns explore a few hundred at most).
const MAX_EXPLORED: usize = 100_000;

/// The complexity of one field's wildcard tests. Each group is one pattern
/// object (a `wildcard`, or one `anything-but` list); within a group, values
/// sharing a prefix share its state. Returns a value above `limit` as soon as the
/// complexity is known to pass it.
pub fn complexity(groups: &[Vec<&Wildcard>], limit: usize) -> usize {
    // Positions: (value, tokens consumed). A position's state is its group and
    // the token prefix it stands for.
    let values: Vec<(usize, Vec<Token>)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, ws)| ws.iter().map(move |w| (g, tokens(w))))
        .collect();
    let mut state_ids: HashMap<(usize, &[Token]), u32> = HashMap::new();
    let mut base = Vec::with_capacity(values.len());
    let mut state_of: Vec<u32> = Vec::new();
    for (group, toks) in &values {
        base.push(state_of.len());
        for pos in 0..=toks.len() {
            let next = state_ids.len() as u32;
            state_of.push(*state_ids.entry((*group, &toks[..pos])).or_insert(next));
        }
    }
    // A set of active positions, as (value, position) pairs, closed under "a star
    // may match nothing".
    let close = |set: &mut Vec<(u32, u32)>| {
        let mut i = 0;
        while i < set.len() {
            let (v, p) = set[i];
            if values[v as usize].1.get(p as usize) == Some(&Token::Star) {
                set.push((v, p + 1));
            }
            i += 1;
        }
        set.sort_unstable();
        set.dedup();
    };
    let score = |set: &[(u32, u32)]| {
        let states: HashSet<u32> = set
            .iter()
            .filter(|&&(_, p)| p > 0)
            .map(|&(v, p)| state_of[base[v as usize] + p as usize])
            .collect();
        states.len()
    };
    let mut alphabet: Vec<u8> = values
        .iter()
        .flat_map(|(_, toks)| toks.iter())
        .filter_map(|t| match t {
            Token::Byte(b) => Some(*b),
            Token::Star => None,
        })
        .collect::<HashSet<u8>>()
        .into_iter()
        .collect();
    if let Some(other) = (0..=u8::MAX).find(|b| !alphabet.contains(b)) {
        alphabet.push(other);
    }
    let mut start: Vec<(u32, u32)> = (0..values.len() as u32).map(|v| (v, 0)).collect();
    close(&mut start);
    let mut seen: HashSet<Vec<(u32, u32)>> = HashSet::new();
    let mut queue = VecDeque::new();
    let mut worst = 0;
    seen.insert(start.clone());
    queue.push_back(start);
    while let Some(set) = queue.pop_front() {
        for &byte in &alphabet {
            let mut next = Vec::new();
            for &(v, p) in &set {
                let toks = &values[v as usize].1;
                if toks.get(p as usize) == Some(&Token::Byte(byte)) {
                    next.push((v, p + 1));
                }
                if p > 0 && toks[p as usize - 1] == Token::Star {
                    next.push((v, p)); // the star takes the byte
                }
            }
            if next.is_empty() {
                continue;
            }
            close(&mut next);
            worst = worst.max(score(&next));
            if worst > limit {
                return worst;
            }
            if seen.len() >= MAX_EXPLORED {
                return limit.saturating_add(1);
            }
            if seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Complexity of single wildcards, as event-ruler's tests give them for
    /// unquoted patterns; quoting adds the opening quote's prefix where it is
    /// active together with the others.
    fn of(patterns: &[&str]) -> usize {
        let parsed: Vec<Wildcard> = patterns
            .iter()
            .map(|p| Wildcard::parse(p).unwrap())
            .collect();
        let groups: Vec<Vec<&Wildcard>> = parsed.iter().map(|w| vec![w]).collect();
        complexity(&groups, 1000)
    }

    #[test]
    fn counts_active_wildcard_prefixes() {
        // event-ruler's MachineComplexityEvaluatorTest, plus one for the quote
        // prefix `"` where the pattern starts with a star (`"` and `"*` are
        // active together after the opening quote).
        assert_eq!(of(&["*"]), 2);
        assert_eq!(of(&["abc"]), 1);
        assert_eq!(of(&["*ab"]), 2);
        assert_eq!(of(&["*aa"]), 3);
        assert_eq!(of(&["a*b"]), 2);
        assert_eq!(of(&["aa*"]), 2);
        assert_eq!(of(&["a*bb"]), 3);
        assert_eq!(of(&["a*bcb"]), 3);
        assert_eq!(of(&["a*bbb"]), 4);
        assert_eq!(of(&["*ab*ad"]), 4);
        assert_eq!(of(&["a*b*bb"]), 5);
        assert_eq!(of(&["a*b*cd"]), 3);
        assert_eq!(of(&["ab*b*"]), 3);
        assert_eq!(of(&["a*aaa", "aa*aa"]), 7);
        assert_eq!(of(&["a*bc", "abc*d"]), 4);
        assert_eq!(of(&["*:*:*:*:*:event-bus/*"]), 11);
        assert_eq!(of(&["arn:aws:events:*:*:event-bus/*"]), 5);
        // What EventBridge accepted (three) and rejected (four) in one field.
        let stacks = [
            "*:stack/prod-SharedStack/*",
            "*:stack/prod-TrackerStack/*",
            "*:stack/prod-DriverStack/*",
            "*:stack/prod-WorkerStack/*",
        ];
        assert_eq!(of(&stacks[..3]), 9);
        assert_eq!(of(&stacks), 12);
    }

    #[test]
    fn values_of_one_anything_but_share_prefixes() {
        let a = Wildcard::parse("x*a").unwrap();
        let b = Wildcard::parse("x*b").unwrap();
        assert_eq!(complexity(&[vec![&a], vec![&b]], 100), 4);
        assert_eq!(complexity(&[vec![&a, &b]], 100), 2);
    }

    #[test]
    fn stops_once_past_the_limit() {
        let w = Wildcard::parse(&"*a".repeat(200)).unwrap();
        assert_eq!(complexity(&[vec![&w]], 10), 11);
    }
}
