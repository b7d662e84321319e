//! Merkle trees as Certificate Transparency defines them (RFC 6962 §2.1,
//! RFC 9162 §2.1). An action on many assets signs its events once, over the
//! root of the tree of their digests, instead of once per event; each event
//! proves it belongs with an audit path of about log2(n) hashes.
//!
//! Leaves and interior nodes are hashed with different prefixes (0x00 and
//! 0x01), so no interior node can pass for a leaf. A root is never the
//! digest of an event either: an event's digest is SHA-256 of JSON text,
//! which starts with `{`, never with 0x00 or 0x01.

use std::cell::RefCell;
use std::collections::HashMap;

use sha2::{Digest, Sha256};

pub(crate) type Hash = [u8; 32];

/// The hash of a leaf holding `data`.
pub(crate) fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Every level of a tree, leaf hashes first and the root last. Built level
/// by level, pairing neighbours and carrying an odd last node up as it is,
/// which is the same tree as RFC 6962's recursive definition (the left
/// subtree holds the largest power of two below n).
pub(crate) struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// The tree over `leaves`, in order; `None` when there are none (an
    /// empty batch is never signed).
    pub(crate) fn new<L: AsRef<[u8]>>(leaves: &[L]) -> Option<Tree> {
        if leaves.is_empty() {
            return None;
        }
        let mut levels = vec![leaves.iter().map(|l| leaf_hash(l.as_ref())).collect()];
        while let Some(below) = levels.last().filter(|l: &&Vec<Hash>| l.len() > 1) {
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    // The odd node out, carried up unchanged.
                    _ => pair[0],
                })
                .collect();
            levels.push(above);
        }
        Some(Tree { levels })
    }

    pub(crate) fn root(&self) -> Hash {
        // `new` never builds a tree without a level, nor a last level of
        // other than one node.
        self.levels
            .last()
            .and_then(|l| l.first())
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The audit path of leaf `index`: the sibling at each level, from the
    /// leaves up (RFC 6962 §2.1.1). Empty for an index outside the tree.
    pub(crate) fn path(&self, index: u64) -> Vec<Hash> {
        let Ok(mut i) = usize::try_from(index) else {
            return Vec::new();
        };
        if index >= self.size() {
            return Vec::new();
        }
        let mut path = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = if i % 2 == 1 { Some(i - 1) } else { Some(i + 1) };
            if let Some(node) = sibling.and_then(|s| level.get(s)) {
                path.push(*node);
            }
            i /= 2;
        }
        path
    }
}

/// The root that `path` proves leaf `index` (of hash `leaf`) of a tree of
/// `size` leaves belongs to, or `None` when the path cannot belong to such
/// a tree (RFC 9162 §2.1.3.2). The caller compares it with a signed root.
pub(crate) fn root_from_path(leaf: &Hash, index: u64, size: u64, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// The root over `hashed`, leaf hashes already, by RFC 6962's recursive
/// definition: the left subtree holds the largest power of two below n.
fn subtree_root(hashed: &[Hash]) -> Hash {
    match hashed.len() {
        0 => Sha256::digest([]).into(),
        1 => hashed[0],
        n => {
            let k = split(n);
            node_hash(&subtree_root(&hashed[..k]), &subtree_root(&hashed[k..]))
        }
    }
}

/// The largest power of two below `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The consistency proof that the tree over the first `m` of `leaves` is a
/// prefix of the tree over all of them (RFC 9162 §2.1.4.1): what a witness
/// needs to accept a newer checkpoint as extending one it saw. Empty when
/// `m` is 0 or every leaf.
pub(crate) fn consistency_proof<L: AsRef<[u8]>>(leaves: &[L], m: usize) -> Vec<Hash> {
    let hashed: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l.as_ref())).collect();
    consistency_proof_of_hashed(&hashed, m)
}

/// [`consistency_proof`] over leaf hashes already made.
fn consistency_proof_of_hashed(hashed: &[Hash], m: usize) -> Vec<Hash> {
    let mut proof = Vec::new();
    if m > 0 && m < hashed.len() {
        subproof(m, hashed, true, &mut proof);
    }
    proof
}

fn subproof(m: usize, d: &[Hash], whole: bool, proof: &mut Vec<Hash>) {
    let n = d.len();
    if m == n {
        if !whole {
            proof.push(subtree_root(d));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &d[..k], whole, proof);
        proof.push(subtree_root(&d[k..]));
    } else {
        subproof(m - k, &d[k..], false, proof);
        proof.push(subtree_root(&d[..k]));
    }
}

/// A hash written as hex, as checkpoints and proofs carry them.
pub(crate) fn hash_from_hex(text: &str) -> Option<Hash> {
    let mut hash = [0; 32];
    hex::decode_to_slice(text, &mut hash).ok()?;
    Some(hash)
}

/// [`verify_consistency`] over hex: roots and proof as a checkpoint, or a
/// library asking a market to witness one, writes them. Anything that is
/// not a hash makes it fail.
pub(crate) fn consistency_holds_hex<'a>(
    m: u64,
    n: u64,
    first: &str,
    second: &str,
    proof: impl IntoIterator<Item = &'a str>,
) -> bool {
    let proof: Option<Vec<Hash>> = proof.into_iter().map(hash_from_hex).collect();
    match (hash_from_hex(first), hash_from_hex(second), proof) {
        (Some(first), Some(second), Some(proof)) => {
            verify_consistency(m, n, &first, &second, &proof)
        }
        _ => false,
    }
}

/// Whether `proof` shows that the tree of `m` leaves with root `first` is a
/// prefix of the tree of `n` leaves with root `second` (RFC 9162
/// §2.1.4.2).
pub(crate) fn verify_consistency(
    m: u64,
    n: u64,
    first: &Hash,
    second: &Hash,
    proof: &[Hash],
) -> bool {
    if m == 0 || m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && first == second;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if m.is_power_of_two() {
        path.push(*first);
    }
    path.extend_from_slice(proof);
    let Some((start, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (m - 1, n - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *first && sr == *second && s == 0
}

/// The roots of the perfect subtrees that make up a tree of `size` leaves,
/// largest first (one per set bit of `size`): Certificate Transparency's
/// compact range. It is all a tree needs to grow: its root, the root after
/// more leaves and the consistency proof between the two come from it and
/// the new leaves alone, so a checkpoint costs what was added since the
/// last one, not the whole history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

/// A frontier grown by some leaves: the new tree's root, the proof that the
/// old tree is its prefix (RFC 9162 §2.1.4.1), and the new frontier.
pub(crate) struct Grown {
    pub(crate) root: Option<Hash>,
    pub(crate) proof: Vec<Hash>,
    pub(crate) frontier: Frontier,
}

impl Frontier {
    /// The frontier of the empty tree, to grow from.
    pub(crate) fn empty() -> Frontier {
        Frontier {
            size: 0,
            nodes: Vec::new(),
        }
    }

    /// As stored beside a checkpoint: `{"size": N, "nodes": [hex, ...]}`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let nodes: Vec<String> = self.nodes.iter().map(hex::encode).collect();
        serde_json::json!({"size": self.size, "nodes": nodes})
    }

    /// What [`Frontier::to_json`] wrote; `None` for anything else, or for
    /// nodes that do not match the size.
    pub(crate) fn from_json(value: &serde_json::Value) -> Option<Frontier> {
        let size = value["size"].as_u64()?;
        let nodes = value["nodes"]
            .as_array()?
            .iter()
            .map(|h| {
                let bytes = hex::decode(h.as_str()?).ok()?;
                Hash::try_from(bytes.as_slice()).ok()
            })
            .collect::<Option<Vec<Hash>>>()?;
        (nodes.len() == size.count_ones() as usize).then_some(Frontier { size, nodes })
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The root of the tree it stands for; `None` for none.
    pub(crate) fn root(&self) -> Option<Hash> {
        let (last, rest) = self.nodes.split_last()?;
        Some(
            rest.iter()
                .rev()
                .fold(*last, |right, left| node_hash(left, &right)),
        )
    }

    /// `(start, size)` of each node, largest first.
    fn spans(size: u64) -> impl Iterator<Item = (u64, u64)> {
        let mut start = 0;
        (0..64).rev().filter_map(move |bit| {
            let width = 1u64 << bit;
            (size & width != 0).then(|| {
                let span = (start, width);
                start += width;
                span
            })
        })
    }

    /// The tree grown by `new` leaf hashes: `None` only if this frontier's
    /// nodes do not match its size (it was not made by [`Frontier::grow`]).
    pub(crate) fn grow(&self, new: &[Hash]) -> Option<Grown> {
        if self.nodes.len() != self.size.count_ones() as usize {
            return None;
        }
        let m = self.size;
        let n = m + new.len() as u64;
        let grown = Growing {
            old: self,
            new,
            made: RefCell::new(HashMap::new()),
        };
        // The root of the old leaves alone is not one node unless their
        // number is a power of two: it folds the frontier.
        let root = match new.len() {
            0 => self.root(),
            _ => Some(grown.node(0, n)?),
        };
        let mut proof = Vec::new();
        if m > 0 && m < n {
            grown.subproof(m, 0, n, true, &mut proof)?;
        }
        let nodes = Frontier::spans(n)
            .map(|(start, width)| grown.node(start, start + width))
            .collect::<Option<Vec<Hash>>>()?;
        Some(Grown {
            root,
            proof,
            frontier: Frontier { size: n, nodes },
        })
    }
}

/// A tree of `old.size` leaves known by their frontier, then `new` leaves.
struct Growing<'a> {
    old: &'a Frontier,
    new: &'a [Hash],
    /// Nodes made already: the proof and the new frontier ask again for
    /// nodes the root was made from.
    made: RefCell<HashMap<(u64, u64), Hash>>,
}

impl Growing<'_> {
    /// The root of the subtree over leaves `a..b` (a node of the tree, so
    /// `b - a` splits as RFC 6962 says). A node wholly among the old leaves
    /// is one of the frontier's: every node reached here lies under one that
    /// runs past the old leaves, and the largest whole old nodes are exactly
    /// the frontier's.
    fn node(&self, a: u64, b: u64) -> Option<Hash> {
        if let Some(hash) = self.made.borrow().get(&(a, b)) {
            return Some(*hash);
        }
        let hash = self.make(a, b)?;
        self.made.borrow_mut().insert((a, b), hash);
        Some(hash)
    }

    fn make(&self, a: u64, b: u64) -> Option<Hash> {
        let m = self.old.size;
        if b <= m {
            return Frontier::spans(m)
                .position(|span| span == (a, b - a))
                .map(|i| self.old.nodes[i]);
        }
        if a >= m {
            let from = usize::try_from(a - m).ok()?;
            let to = usize::try_from(b - m).ok()?;
            return Some(subtree_root(self.new.get(from..to)?));
        }
        let k = split((b - a) as usize) as u64;
        Some(node_hash(&self.node(a, a + k)?, &self.node(a + k, b)?))
    }

    /// RFC 9162's SUBPROOF(m, D[a:b], whole), over leaf positions.
    fn subproof(&self, m: u64, a: u64, b: u64, whole: bool, proof: &mut Vec<Hash>) -> Option<()> {
        let n = b - a;
        if m == n {
            if !whole {
                proof.push(self.node(a, b)?);
            }
            return Some(());
        }
        let k = split(n as usize) as u64;
        if m <= k {
            self.subproof(m, a, a + k, whole, proof)?;
            proof.push(self.node(a + k, b)?);
        } else {
            self.subproof(m - k, a + k, b, false, proof)?;
            proof.push(self.node(a, a + k)?);
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leaves of Certificate Transparency's reference tests, and the
    /// root of each prefix of them.
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        LEAVES[..n]
            .iter()
            .map(|l| hex::decode(l).unwrap_or_default())
            .collect()
    }

    #[test]
    fn roots_match_certificate_transparency() {
        for n in 1..=LEAVES.len() {
            let tree = Tree::new(&leaves(n)).unwrap();
            assert_eq!(hex::encode(tree.root()), ROOTS[n - 1], "{n} leaves");
        }
        assert!(Tree::new::<Vec<u8>>(&[]).is_none());
    }

    /// A frontier grown by any number of leaves gives the root, the
    /// consistency proof and the frontier that the whole leaves give, for
    /// every pair of sizes up to 70 (and through JSON, as stored).
    fn root_of_hashed(hashed: &[Hash]) -> Option<Hash> {
        (!hashed.is_empty()).then(|| subtree_root(hashed))
    }

    #[test]
    fn a_frontier_grows_into_the_tree_of_all_its_leaves() {
        let data: Vec<Hash> = (0..70u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for m in 0..=data.len() {
            let old = Frontier::empty().grow(&data[..m]).unwrap();
            assert_eq!(old.root, root_of_hashed(&data[..m]), "m {m}");
            assert_eq!(old.frontier.root(), old.root, "m {m}");
            let stored = Frontier::from_json(&old.frontier.to_json()).unwrap();
            assert_eq!(stored, old.frontier);
            for n in m..=data.len() {
                let grown = stored.grow(&data[m..n]).unwrap();
                let whole = Frontier::empty().grow(&data[..n]).unwrap();
                assert_eq!(grown.root, root_of_hashed(&data[..n]), "m {m} n {n}");
                assert_eq!(grown.frontier, whole.frontier, "m {m} n {n}");
                assert_eq!(grown.proof, consistency_proof_of_hashed(&data[..n], m));
                if m > 0 {
                    let (first, second) = (old.root.unwrap(), grown.root.unwrap());
                    assert!(verify_consistency(
                        m as u64,
                        n as u64,
                        &first,
                        &second,
                        &grown.proof
                    ));
                }
            }
        }
        // Nodes that do not match the size are refused, stored or not.
        let mut odd = Frontier::empty()
            .grow(&data[..5])
            .unwrap()
            .frontier
            .to_json();
        odd["size"] = 7.into();
        assert!(Frontier::from_json(&odd).is_none());
    }

    #[test]
    fn every_path_proves_its_leaf_and_nothing_else() {
        for n in 1..=70u64 {
            let data: Vec<[u8; 8]> = (0..n).map(u64::to_be_bytes).collect();
            let tree = Tree::new(&data).unwrap();
            assert_eq!(tree.size(), n);
            for i in 0..n {
                let leaf = leaf_hash(&data[i as usize]);
                let path = tree.path(i);
                assert!(path.len() as f64 <= (n as f64).log2().ceil(), "n {n} i {i}");
                assert_eq!(root_from_path(&leaf, i, n, &path), Some(tree.root()));
                // Another leaf or index does not reach the root. (A path
                // can fit trees of other sizes, so the size is signed with
                // the root.)
                let other = leaf_hash(b"other");
                assert_ne!(root_from_path(&other, i, n, &path), Some(tree.root()));
                if n > 1 {
                    assert_ne!(
                        root_from_path(&leaf, (i + 1) % n, n, &path),
                        Some(tree.root()),
                        "n {n} i {i}"
                    );
                }
                assert_eq!(root_from_path(&leaf, n, n, &path), None);
                for k in 0..path.len() {
                    let mut bent = path.clone();
                    bent[k][0] ^= 1;
                    assert_ne!(root_from_path(&leaf, i, n, &bent), Some(tree.root()));
                    let mut short = path.clone();
                    short.remove(k);
                    assert_ne!(root_from_path(&leaf, i, n, &short), Some(tree.root()));
                }
            }
            assert!(tree.path(n).is_empty());
        }
    }

    #[test]
    fn consistency_proofs_hold_for_every_prefix_and_fail_when_bent() {
        for n in 1..=40usize {
            let data: Vec<[u8; 8]> = (0..n as u64).map(u64::to_be_bytes).collect();
            let second = Tree::new(&data).unwrap().root();
            for m in 1..=n {
                let first = Tree::new(&data[..m]).unwrap().root();
                let proof = consistency_proof(&data, m);
                assert!(proof.len() <= 2 * (usize::BITS - n.leading_zeros()) as usize);
                assert!(
                    verify_consistency(m as u64, n as u64, &first, &second, &proof),
                    "m {m} n {n}"
                );
                // Another first root or a bent proof fails.
                let other = leaf_hash(b"other");
                assert!(!verify_consistency(
                    m as u64, n as u64, &other, &second, &proof
                ));
                for k in 0..proof.len() {
                    let mut bent = proof.clone();
                    bent[k][0] ^= 1;
                    assert!(!verify_consistency(
                        m as u64, n as u64, &first, &second, &bent
                    ));
                }
                // (A proof can fit trees of other sizes, as an audit path
                // can, so a checkpoint signs each size with its root.)
            }
        }
    }

    #[test]
    fn a_rewritten_prefix_is_not_consistent() {
        let data: Vec<[u8; 8]> = (0..20u64).map(u64::to_be_bytes).collect();
        let first = Tree::new(&data[..7]).unwrap().root();
        let mut rewritten = data.clone();
        rewritten[3] = 99u64.to_be_bytes();
        let second = Tree::new(&rewritten).unwrap().root();
        let proof = consistency_proof(&rewritten, 7);
        assert!(!verify_consistency(7, 20, &first, &second, &proof));
    }

    #[test]
    fn consistency_matches_the_recursive_definition_of_the_root() {
        for n in 1..=LEAVES.len() {
            let hashed: Vec<Hash> = leaves(n).iter().map(|l| leaf_hash(l)).collect();
            assert_eq!(hex::encode(subtree_root(&hashed)), ROOTS[n - 1]);
        }
    }
}
