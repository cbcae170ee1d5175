//! Matching as PostgreSQL's regex library (Henry Spencer's) does it, which
//! differs from Perl-style engines: of the matches starting earliest, the
//! whole pattern takes the longest, or the shortest when its first
//! quantifier is non-greedy; then each part's share follows that part's own
//! preference, earlier parts first. The pattern is cut into the same tree
//! of sub-patterns PostgreSQL's compiler makes (plain runs merged, split
//! where a capture or a change of preference needs it), each sub-pattern
//! is a Thompson NFA simulated over the text, and a match is dissected
//! down that tree.

use super::classes::{fold, is_word};
use super::parse::{self, Atom, Error, Item, Look, Options, Pref, Re, Set};

/// Beyond this many NFA instructions a pattern is refused as too complex.
const MAX_INSTS: usize = 200_000;

const TOO_BIG: Error = Error("regular expression is too complex");

/// A compiled pattern.
#[derive(Debug)]
pub struct Regex {
    root: Sub,
    /// The number of capturing groups.
    pub groups: usize,
    /// Back references compare case-insensitively.
    icase: bool,
    /// The NFAs match a superset (back references as what their group can
    /// match), so each match found must be dissected to be one.
    backrefs: bool,
}

/// One match: where it is and where each group matched (index 0 unused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub start: usize,
    pub end: usize,
    pub groups: Vec<Option<(usize, usize)>>,
}

impl Regex {
    pub fn new(pattern: &str, opts: Options) -> Result<Regex, Error> {
        let parsed = parse::parse(pattern, opts)?;
        let root = build_re(&parsed.re)?;
        let backrefs = root.flags & BACKR != 0;
        Ok(Regex { root, groups: parsed.groups, icase: parsed.opts.icase, backrefs })
    }

    /// Whether the pattern matches anywhere in `hay`.
    pub fn is_match(&self, hay: &[char]) -> bool {
        if self.backrefs {
            return self.find_at(hay, 0, false).is_some();
        }
        self.root.prog.leftmost_start(hay, 0, true).is_some()
    }

    /// The first match starting at or after `from`, with its groups if `groups`.
    pub fn find_at(&self, hay: &[char], from: usize, groups: bool) -> Option<Match> {
        if self.backrefs {
            return self.find_verified(hay, from);
        }
        let start = self.root.prog.leftmost_start(hay, from, false)?;
        let shortest = self.root.flags & SHORTER != 0;
        let end = *self.root.prog.scan(hay, start, hay.len(), shortest).last()?;
        let mut m = Match { start, end, groups: vec![None; self.groups + 1] };
        if groups && self.groups > 0 {
            let dissected = dissect(&self.root, Cx { hay, icase: self.icase }, start, end, &mut m.groups);
            debug_assert!(dissected, "a match without back references always dissects");
        }
        Some(m)
    }

    /// With back references: from each start the NFA allows, earliest
    /// first, each end it allows in the pattern's preference until one
    /// dissects. As in PostgreSQL, starts are tried in rounds up to the
    /// earliest end the NFA finds, and no round begins at the very end of
    /// the text (so an empty match there is found only by a round that
    /// reaches it).
    fn find_verified(&self, hay: &[char], from: usize) -> Option<Match> {
        let mut round = from;
        loop {
            let close = self.root.prog.earliest_end(hay, round)?;
            for start in round..=close {
                if let Some(m) = self.verified_from(hay, start) {
                    return Some(m);
                }
            }
            round = close + 1;
            if round >= hay.len() {
                return None;
            }
        }
    }

    /// The match from `start` whose end the pattern prefers, if one dissects.
    fn verified_from(&self, hay: &[char], start: usize) -> Option<Match> {
        let mut ends = self.root.prog.ends(hay, start, hay.len());
        if self.root.flags & SHORTER == 0 {
            ends.reverse();
        }
        ends.into_iter().find_map(|end| {
            let mut m = Match { start, end, groups: vec![None; self.groups + 1] };
            dissect(&self.root, Cx { hay, icase: self.icase }, start, end, &mut m.groups).then_some(m)
        })
    }
}

// Preference and structure flags of a sub-pattern, as PostgreSQL keeps them.
const LONGER: u8 = 1;
const SHORTER: u8 = 2;
const MIXED: u8 = 4;
const CAP: u8 = 8;
const BACKR: u8 = 16;

fn up(f: u8) -> u8 {
    let clash = if f & LONGER != 0 && f & SHORTER != 0 { MIXED } else { 0 };
    (f & (MIXED | CAP | BACKR)) | clash
}

fn messy(f: u8) -> bool {
    f & (MIXED | CAP | BACKR) != 0
}

fn pref(f: u8) -> u8 {
    f & (LONGER | SHORTER)
}

fn combine(a: u8, b: u8) -> u8 {
    up(a | b) | if pref(a) != 0 { pref(a) } else { pref(b) }
}

fn pref_flag(p: Pref) -> u8 {
    match p {
        Pref::None => 0,
        Pref::Longer => LONGER,
        Pref::Shorter => SHORTER,
    }
}

/// A node of the sub-pattern tree, with the NFA of what it matches.
#[derive(Debug)]
struct Sub {
    kind: Kind,
    flags: u8,
    /// What the node matches, as pattern items.
    items: Vec<Item>,
    prog: Prog,
}

#[derive(Debug)]
enum Kind {
    /// Matched by its NFA alone.
    Leaf,
    Capture(usize, Box<Sub>),
    Concat(Box<Sub>, Box<Sub>),
    Alt(Vec<Sub>),
    Iter {
        child: Box<Sub>,
        min: u32,
        max: Option<u32>,
    },
    /// A back reference to group `n`, repeated `min` to `max` times.
    Backref {
        n: usize,
        min: u32,
        max: Option<u32>,
    },
}

impl Sub {
    fn new(kind: Kind, flags: u8, items: Vec<Item>) -> Result<Sub, Error> {
        let prog = Prog::compile(&items, false)?;
        Ok(Sub { kind, flags, items, prog })
    }

    fn leaf(items: Vec<Item>, flags: u8) -> Result<Sub, Error> {
        Sub::new(Kind::Leaf, flags, items)
    }

    fn concat(left: Sub, right: Sub, flags: u8) -> Result<Sub, Error> {
        let items = left.items.iter().chain(&right.items).cloned().collect();
        Sub::new(Kind::Concat(Box::new(left), Box::new(right)), flags, items)
    }

    fn is_leaf(&self) -> bool {
        matches!(self.kind, Kind::Leaf)
    }
}

fn group_item(re: Re, min: u32, max: Option<u32>) -> Item {
    Item::Atom { atom: Atom::Group { cap: None, re }, min, max, pref: Pref::Longer }
}

/// Alternatives: one node per branch when some branch needs dissecting.
fn build_re(re: &Re) -> Result<Sub, Error> {
    if let [branch] = re.branches.as_slice() {
        return build_branch(branch);
    }
    let branches = re.branches.iter().map(|b| build_branch(b)).collect::<Result<Vec<_>, _>>()?;
    let flags = branches.iter().fold(LONGER, |f, b| f | up(f | b.flags));
    let items = vec![group_item(re.clone(), 1, Some(1))];
    if messy(flags) { Sub::new(Kind::Alt(branches), flags, items) } else { Sub::leaf(items, flags) }
}

/// A branch: items gathered into one leaf until one needs a node of its
/// own (a capture, or a preference that clashes with the leaf's), which
/// splits the branch into the leaf so far, that item, and the rest.
fn build_branch(items: &[Item]) -> Result<Sub, Error> {
    let mut plain: Vec<Item> = vec![];
    let mut flags = 0;
    for (i, item) in items.iter().enumerate() {
        let Item::Atom { atom, min, max, pref } = item else {
            plain.push(item.clone());
            continue;
        };
        let qprefer = pref_flag(*pref);
        let (node, captures) = match atom {
            Atom::Group { cap, re } => {
                let inner = build_re(re)?;
                match cap {
                    Some(n) => {
                        let f = inner.flags | CAP;
                        let items = inner.items.clone();
                        (Some(Sub::new(Kind::Capture(*n, Box::new(inner)), f, items)?), true)
                    }
                    None => (Some(inner), false),
                }
            }
            Atom::Backref { n, .. } => {
                // A back reference repeats itself: its quantifier stays inside.
                let node_flags = BACKR | qprefer;
                let node = Sub::new(Kind::Backref { n: *n, min: *min, max: *max }, node_flags, vec![item.clone()])?;
                return split_branch(plain, flags, (node, node_flags), &items[i + 1..]);
            }
            _ => (None, false),
        };
        let f = flags | qprefer | node.as_ref().map_or(0, |n| n.flags);
        if !captures && !messy(up(f)) {
            plain.push(item.clone());
            flags = f;
            continue;
        }
        let atom = match node {
            Some(n) => n,
            None => Sub::leaf(vec![Item::Atom { atom: atom.clone(), min: 1, max: Some(1), pref: Pref::None }], 0)?,
        };
        let quantified = quantify(atom, *min, *max, qprefer)?;
        return split_branch(plain, flags, quantified, &items[i + 1..]);
    }
    Sub::leaf(plain, flags)
}

/// A node for `atom{min,max}`: the atom itself, a leaf when it holds no
/// capture or back reference, `x{m-1,n-1}x` with only the last copy
/// dissected, or an iteration.
fn quantify(atom: Sub, min: u32, max: Option<u32>, qprefer: u8) -> Result<(Sub, u8), Error> {
    let t_flags = combine(qprefer, atom.flags);
    let own = atom.flags & (LONGER | SHORTER | MIXED);
    if min == 1 && max == Some(1) && (qprefer == 0 || own == 0 || qprefer == own) {
        return Ok((atom, t_flags));
    }
    let repeated = |m, n| vec![group_item(Re { branches: vec![atom.items.clone()] }, m, n)];
    if atom.flags & (CAP | BACKR) == 0 {
        let items = repeated(min, max);
        return Ok((Sub::leaf(items, t_flags)?, t_flags));
    }
    if min > 0 && atom.flags & BACKR == 0 {
        let prefix = Sub::leaf(repeated(min - 1, max.map(|n| n - 1)), pref(t_flags))?;
        return Ok((Sub::concat(prefix, atom, t_flags)?, t_flags));
    }
    let items = repeated(min, max);
    Ok((Sub::new(Kind::Iter { child: Box::new(atom), min, max }, t_flags, items)?, t_flags))
}

/// The branch as `prefix . (node . rest)`, simplified as PostgreSQL does.
fn split_branch(prefix_items: Vec<Item>, prefix_flags: u8, (node, t_flags): (Sub, u8), rest: &[Item]) -> Result<Sub, Error> {
    let vacuous = prefix_items.is_empty();
    let mut top_flags = prefix_flags;
    if rest.is_empty() {
        top_flags |= combine(top_flags, node.flags);
        if vacuous {
            return Ok(node);
        }
        return Sub::concat(Sub::leaf(prefix_items, prefix_flags)?, node, top_flags);
    }
    let rest = build_branch(rest)?;
    let t_flags = t_flags | combine(t_flags, rest.flags);
    top_flags |= combine(top_flags, t_flags);
    if vacuous {
        return Sub::concat(node, rest, top_flags);
    }
    let t = if node.is_leaf() && rest.is_leaf() && !messy(up(node.flags | rest.flags)) {
        let flags = combine(node.flags, rest.flags);
        Sub::leaf(node.items.into_iter().chain(rest.items).collect(), flags)?
    } else {
        Sub::concat(node, rest, t_flags)?
    };
    Sub::concat(Sub::leaf(prefix_items, prefix_flags)?, t, top_flags)
}

/// The text being matched, and how back references compare.
#[derive(Clone, Copy)]
struct Cx<'a> {
    hay: &'a [char],
    icase: bool,
}

/// Sets `groups` for a match of `t` over `a..b`, as PostgreSQL dissects
/// it; false when a back reference does not hold.
fn dissect(t: &Sub, cx: Cx, a: usize, b: usize, groups: &mut [Option<(usize, usize)>]) -> bool {
    let hay = cx.hay;
    match &t.kind {
        Kind::Leaf => true,
        Kind::Capture(n, child) => {
            let ok = dissect(child, cx, a, b, groups);
            if ok {
                groups[*n] = Some((a, b));
            }
            ok
        }
        Kind::Concat(left, right) => {
            let mut mids = left.prog.ends(hay, a, b);
            if left.flags & SHORTER == 0 {
                mids.reverse();
            }
            mids.into_iter().any(|mid| {
                right.prog.matches_exactly(hay, mid, b) && {
                    clear(left, groups);
                    clear(right, groups);
                    dissect(left, cx, a, mid, groups) && dissect(right, cx, mid, b, groups)
                }
            })
        }
        Kind::Alt(branches) => branches.iter().any(|br| br.prog.matches_exactly(hay, a, b) && dissect(br, cx, a, b, groups)),
        Kind::Iter { child, min, max } => {
            let it = Iteration { child, cx, a, b, min: *min, max: *max };
            if child.flags & SHORTER != 0 { it.shortest_first(groups) } else { it.longest_first(groups) }
        }
        Kind::Backref { n, min, max } => repeats_group(cx, groups[*n], a, b, *min, *max),
    }
}

/// Whether `hay[a..b]` is group `g`'s text repeated `min` to `max` times.
fn repeats_group(cx: Cx, g: Option<(usize, usize)>, a: usize, b: usize, min: u32, max: Option<u32>) -> bool {
    let Some((gs, ge)) = g else { return false };
    let len = ge - gs;
    if len == 0 {
        return a == b;
    }
    if a == b {
        return min == 0;
    }
    let reps = (b - a) / len;
    if !(b - a).is_multiple_of(len) || reps < min as usize || max.is_some_and(|m| reps > m as usize) {
        return false;
    }
    let same = |x: char, y: char| x == y || (cx.icase && fold(x) == fold(y));
    (0..reps).all(|r| (0..len).all(|k| same(cx.hay[gs + k], cx.hay[a + r * len + k])))
}

/// Unsets the groups inside `t`.
fn clear(t: &Sub, groups: &mut [Option<(usize, usize)>]) {
    match &t.kind {
        Kind::Leaf => {}
        Kind::Capture(n, child) => {
            groups[*n] = None;
            clear(child, groups);
        }
        Kind::Concat(l, r) => {
            clear(l, groups);
            clear(r, groups);
        }
        Kind::Alt(bs) => bs.iter().for_each(|b| clear(b, groups)),
        Kind::Iter { child, .. } => clear(child, groups),
        Kind::Backref { .. } => {}
    }
}

/// An iteration node's match over `a..b`, to cut into repetitions of `child`.
struct Iteration<'a> {
    child: &'a Sub,
    cx: Cx<'a>,
    a: usize,
    b: usize,
    min: u32,
    max: Option<u32>,
}

impl Iteration<'_> {
    /// The fewest and most repetitions worth trying (zero-length ones only
    /// when the minimum needs them).
    fn counts(&self) -> (usize, usize) {
        let min = self.min.max(1) as usize;
        let mut max = self.b - self.a;
        if let Some(m) = self.max {
            max = max.min(m as usize);
        }
        (min, max.max(min))
    }

    /// The longest end at most `limit` of a repetition from `from`.
    fn longest(&self, from: usize, limit: usize) -> Option<usize> {
        self.child.prog.ends(self.cx.hay, from, limit).last().copied()
    }

    /// The shortest end at least `least` of a repetition from `from`.
    fn shortest(&self, from: usize, least: usize) -> Option<usize> {
        self.child.prog.ends(self.cx.hay, from, self.b).into_iter().find(|&e| e >= least)
    }

    /// Whether the repetitions ending at `ends[1..=k]` dissect, each in turn
    /// (the groups left are the last repetition's); else the first that fails.
    fn verify(&self, ends: &[usize], k: usize, groups: &mut [Option<(usize, usize)>]) -> Result<(), usize> {
        for i in 1..=k {
            clear(self.child, groups);
            if !dissect(self.child, self.cx, ends[i - 1], ends[i], groups) {
                return Err(i);
            }
        }
        Ok(())
    }

    /// Greedy repetitions: each as long as still lets the rest divide.
    fn longest_first(&self, groups: &mut [Option<(usize, usize)>]) -> bool {
        let (min, max) = self.counts();
        let (a, b) = (self.a, self.b);
        let mut ends = vec![a; max + 1];
        let mut k = 1;
        let mut limit = b;
        'search: while k > 0 {
            match self.longest(ends[k - 1], limit) {
                None => k -= 1,
                Some(e) => {
                    ends[k] = e;
                    if e != b {
                        if k >= max {
                            k -= 1;
                        } else if !(e == ends[k - 1] && (k >= min || min - k < b - e)) {
                            k += 1;
                            limit = b;
                            continue;
                        }
                    } else if k >= min {
                        match self.verify(&ends, k, groups) {
                            Ok(()) => return true,
                            Err(i) => k = i,
                        }
                    }
                }
            }
            // Shorten the k'th repetition, else an earlier one.
            while k > 0 {
                let prev = ends[k - 1];
                if ends[k] > prev {
                    limit = ends[k] - 1;
                    if limit > prev || (k < min && min - k >= b - prev) {
                        continue 'search;
                    }
                }
                k -= 1;
            }
        }
        self.min == 0 && a == b
    }

    /// Non-greedy repetitions: each as short as still lets the rest divide.
    fn shortest_first(&self, groups: &mut [Option<(usize, usize)>]) -> bool {
        let (a, b) = (self.a, self.b);
        if self.min == 0 && a == b {
            return true;
        }
        let (min, max) = self.counts();
        let mut ends = vec![a; max + 1];
        let mut k = 1;
        let mut limit = a;
        'search: while k > 0 {
            if limit == ends[k - 1] && limit != b && (k >= min || min - k < b - limit) {
                limit += 1;
            }
            if k >= max {
                limit = b;
            }
            match self.shortest(ends[k - 1], limit) {
                None => k -= 1,
                Some(e) => {
                    ends[k] = e;
                    if e != b {
                        if k >= max {
                            k -= 1;
                        } else {
                            k += 1;
                            limit = ends[k - 1];
                            continue;
                        }
                    } else if k >= min {
                        match self.verify(&ends, k, groups) {
                            Ok(()) => return true,
                            Err(i) => k = i,
                        }
                    }
                }
            }
            // Lengthen the k'th repetition, else an earlier one.
            while k > 0 {
                if ends[k] < b {
                    limit = ends[k] + 1;
                    continue 'search;
                }
                k -= 1;
            }
        }
        false
    }
}

/// A Thompson NFA over characters.
#[derive(Debug, Default)]
struct Prog {
    insts: Vec<Inst>,
    sets: Vec<Set>,
    arounds: Vec<Around>,
}

#[derive(Debug)]
struct Around {
    behind: bool,
    negate: bool,
    /// Reversed for a lookbehind, which runs backwards from the position.
    prog: Prog,
}

#[derive(Debug, Clone, Copy)]
enum Inst {
    /// One character of set `.0`, then `.1`.
    Char(usize, usize),
    Split(usize, usize),
    Jump(usize),
    Look(Look, usize),
    Around(usize, usize),
    Match,
}

impl Prog {
    /// The NFA of `items` in sequence (reversed, to run backwards, if `reverse`).
    fn compile(items: &[Item], reverse: bool) -> Result<Prog, Error> {
        let mut p = Prog::default();
        p.items(items, reverse)?;
        p.insts.push(Inst::Match);
        Ok(p)
    }

    fn next(&self) -> usize {
        self.insts.len()
    }

    fn push(&mut self, inst: Inst) -> Result<usize, Error> {
        if self.insts.len() >= MAX_INSTS {
            return Err(TOO_BIG);
        }
        self.insts.push(inst);
        Ok(self.insts.len() - 1)
    }

    fn items(&mut self, items: &[Item], reverse: bool) -> Result<(), Error> {
        let mut order: Vec<&Item> = items.iter().collect();
        if reverse {
            order.reverse();
        }
        order.into_iter().try_for_each(|item| self.item(item, reverse))
    }

    fn item(&mut self, item: &Item, reverse: bool) -> Result<(), Error> {
        match item {
            Item::Look(l) => {
                let next = self.next() + 1;
                self.push(Inst::Look(*l, next))?;
            }
            Item::Around { behind, negate, re } => {
                let prog = Prog::compile(&[group_item(re.clone(), 1, Some(1))], *behind)?;
                self.arounds.push(Around { behind: *behind, negate: *negate, prog });
                let next = self.next() + 1;
                self.push(Inst::Around(self.arounds.len() - 1, next))?;
            }
            Item::Atom { atom, min, max, .. } => self.repeat(atom, *min, *max, reverse)?,
        }
        Ok(())
    }

    fn atom(&mut self, atom: &Atom, reverse: bool) -> Result<(), Error> {
        match atom {
            Atom::Set(s) => {
                self.sets.push(s.clone());
                let next = self.next() + 1;
                self.push(Inst::Char(self.sets.len() - 1, next))?;
            }
            Atom::Group { re, .. } => self.alternatives(re, reverse)?,
            Atom::Backref { re, .. } => self.alternatives(re, reverse)?,
        }
        Ok(())
    }

    /// `b1|b2|...`: a split to each branch, each jumping to the end.
    fn alternatives(&mut self, re: &Re, reverse: bool) -> Result<(), Error> {
        let mut jumps = vec![];
        for (i, branch) in re.branches.iter().enumerate() {
            let last = i + 1 == re.branches.len();
            let split = if last { None } else { Some(self.push(Inst::Split(0, 0))?) };
            let body = self.next();
            self.items(branch, reverse)?;
            if !last {
                jumps.push(self.push(Inst::Jump(0))?);
            }
            if let Some(s) = split {
                self.insts[s] = Inst::Split(body, self.next());
            }
        }
        let end = self.next();
        for j in jumps {
            self.insts[j] = Inst::Jump(end);
        }
        Ok(())
    }

    /// `atom{min,max}`: `min` copies, then a loop or `max - min` optional copies.
    fn repeat(&mut self, atom: &Atom, min: u32, max: Option<u32>, reverse: bool) -> Result<(), Error> {
        for _ in 0..min {
            self.atom(atom, reverse)?;
        }
        match max {
            None => {
                let split = self.push(Inst::Split(0, 0))?;
                self.atom(atom, reverse)?;
                self.push(Inst::Jump(split))?;
                self.insts[split] = Inst::Split(split + 1, self.next());
            }
            Some(max) => {
                let mut splits = vec![];
                for _ in min..max {
                    splits.push(self.push(Inst::Split(0, 0))?);
                    self.atom(atom, reverse)?;
                }
                let end = self.next();
                for s in splits {
                    self.insts[s] = Inst::Split(s + 1, end);
                }
            }
        }
        Ok(())
    }

    /// Every end `e <= limit` such that the NFA matches `hay[from..e]`.
    fn ends(&self, hay: &[char], from: usize, limit: usize) -> Vec<usize> {
        self.scan(hay, from, limit, false)
    }

    /// The ends of matches from `from`, up to the first one if `first`.
    fn scan(&self, hay: &[char], from: usize, limit: usize, first: bool) -> Vec<usize> {
        let mut out = vec![];
        let mut run = Run::new(self);
        run.add(self, hay, 0, from, usize::MAX);
        let mut pos = from;
        loop {
            if run.matched(self) {
                out.push(pos);
                if first {
                    return out;
                }
            }
            if pos >= limit || run.list.is_empty() {
                return out;
            }
            run.step(self, hay, pos);
            pos += 1;
        }
    }

    /// Whether the NFA matches `hay[from..to]` exactly.
    fn matches_exactly(&self, hay: &[char], from: usize, to: usize) -> bool {
        self.ends(hay, from, to).last() == Some(&to)
    }

    /// The earliest start at or after `from` of a match (of any match when `any`).
    fn leftmost_start(&self, hay: &[char], from: usize, any: bool) -> Option<usize> {
        let mut run = Run::new(self);
        let mut best: Option<usize> = None;
        let mut pos = from;
        loop {
            if best.is_none() {
                run.add(self, hay, 0, pos, pos);
            }
            if let Some(start) = run.first_match(self) {
                if any {
                    return Some(start);
                }
                best = Some(best.map_or(start, |b| b.min(start)));
            }
            if let Some(b) = best {
                run.keep_starts_before(b);
                if run.list.is_empty() {
                    return best;
                }
            }
            if pos >= hay.len() {
                return best;
            }
            run.step(self, hay, pos);
            pos += 1;
        }
    }

    /// The earliest end of a match starting at or after `from`.
    fn earliest_end(&self, hay: &[char], from: usize) -> Option<usize> {
        let mut run = Run::new(self);
        let mut pos = from;
        loop {
            run.add(self, hay, 0, pos, pos);
            if run.matched(self) {
                return Some(pos);
            }
            if pos >= hay.len() {
                return None;
            }
            run.step(self, hay, pos);
            pos += 1;
        }
    }

    /// Whether a lookaround constraint holds at `pos`.
    fn around_holds(&self, i: usize, hay: &[char], pos: usize) -> bool {
        let a = &self.arounds[i];
        let found = if a.behind { a.prog.matches_backwards(hay, pos) } else { !a.prog.ends(hay, pos, hay.len()).is_empty() };
        found != a.negate
    }

    /// Whether the (reversed) NFA matches some `hay[s..pos]`, run backwards.
    fn matches_backwards(&self, hay: &[char], pos: usize) -> bool {
        let mut run = Run::new(self);
        run.add(self, hay, 0, pos, usize::MAX);
        let mut at = pos;
        loop {
            if run.matched(self) {
                return true;
            }
            if at == 0 || run.list.is_empty() {
                return false;
            }
            run.step_back(self, hay, at);
            at -= 1;
        }
    }
}

/// Whether `look` holds at `pos` of `hay`.
fn look_holds(look: Look, hay: &[char], pos: usize) -> bool {
    let before = pos.checked_sub(1).map(|i| hay[i]);
    let after = hay.get(pos).copied();
    let word_before = before.is_some_and(is_word);
    let word_after = after.is_some_and(is_word);
    match look {
        Look::Start { lines } => before.is_none() || (lines && before == Some('\n')),
        Look::End { lines } => after.is_none() || (lines && after == Some('\n')),
        Look::WordStart => !word_before && word_after,
        Look::WordEnd => word_before && !word_after,
        Look::Boundary => word_before != word_after,
        Look::NotBoundary => word_before == word_after,
    }
}

/// The live threads of a simulation: instruction and start, earliest start first.
struct Run {
    list: Vec<(usize, usize)>,
    /// The other list's allocation, reused.
    spare: Vec<(usize, usize)>,
    /// The generation in which each instruction was last added.
    seen: Vec<u32>,
    generation: u32,
    stack: Vec<usize>,
}

impl Run {
    fn new(prog: &Prog) -> Run {
        Run { list: vec![], spare: vec![], seen: vec![0; prog.insts.len()], generation: 1, stack: vec![] }
    }

    /// Adds the threads `pc` leads to without consuming a character at `pos`.
    fn add(&mut self, prog: &Prog, hay: &[char], pc: usize, pos: usize, start: usize) {
        self.stack.push(pc);
        while let Some(pc) = self.stack.pop() {
            if self.seen[pc] == self.generation {
                continue;
            }
            self.seen[pc] = self.generation;
            match prog.insts[pc] {
                Inst::Char(..) | Inst::Match => self.list.push((pc, start)),
                Inst::Jump(to) => self.stack.push(to),
                Inst::Split(a, b) => {
                    self.stack.push(b);
                    self.stack.push(a);
                }
                Inst::Look(look, to) => {
                    if look_holds(look, hay, pos) {
                        self.stack.push(to);
                    }
                }
                Inst::Around(i, to) => {
                    if prog.around_holds(i, hay, pos) {
                        self.stack.push(to);
                    }
                }
            }
        }
    }

    fn matched(&self, prog: &Prog) -> bool {
        self.list.iter().any(|&(pc, _)| matches!(prog.insts[pc], Inst::Match))
    }

    fn first_match(&self, prog: &Prog) -> Option<usize> {
        self.list.iter().find(|&&(pc, _)| matches!(prog.insts[pc], Inst::Match)).map(|&(_, s)| s)
    }

    fn keep_starts_before(&mut self, best: usize) {
        self.list.retain(|&(_, s)| s < best);
    }

    /// Consumes `hay[pos]`, moving the threads to `pos + 1`.
    fn step(&mut self, prog: &Prog, hay: &[char], pos: usize) {
        self.advance(prog, hay, hay[pos], pos + 1);
    }

    /// Consumes `hay[at - 1]` backwards, moving the threads to `at - 1`.
    fn step_back(&mut self, prog: &Prog, hay: &[char], at: usize) {
        self.advance(prog, hay, hay[at - 1], at - 1);
    }

    fn advance(&mut self, prog: &Prog, hay: &[char], c: char, to: usize) {
        let spare = std::mem::take(&mut self.spare);
        let mut current = std::mem::replace(&mut self.list, spare);
        self.generation += 1;
        for &(pc, start) in &current {
            if let Inst::Char(set, next) = prog.insts[pc]
                && prog.sets[set].contains(c)
            {
                self.add(prog, hay, next, to, start);
            }
        }
        current.clear();
        self.spare = current;
    }
}
