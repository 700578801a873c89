//! Unbalanced tree search (common/uts.h): a binomial tree of 64-bit hash
//! descriptors, the same tree and node count as the C programs'.

use crate::kernel::mix64;

pub const UTS_M: usize = 8;
const UTS_Q: f64 = 0.124875;
const UTS_ROUNDS: usize = 24;
const UTS_SEED: u64 = 19;

#[derive(Clone, Copy, Default)]
pub struct UtsNode {
    pub hash: u64,
    pub height: i32,
    pub root_kids: i32,
    pub count: u64,
}

pub fn uts_root(b0: i32) -> UtsNode {
    UtsNode { hash: mix64(UTS_SEED), height: 0, root_kids: b0, count: 0 }
}

#[inline]
pub fn uts_num_kids(nd: &UtsNode) -> usize {
    if nd.height == 0 {
        return nd.root_kids as usize;
    }
    let threshold = (UTS_Q * 9007199254740992.0) as u64; // q * 2^53
    if (nd.hash >> 11) < threshold { UTS_M } else { 0 }
}

#[inline]
pub fn uts_child_hash(parent: u64, i: usize) -> u64 {
    let mut h = parent ^ ((i as u64 + 1).wrapping_mul(0x9E3779B97F4A7C15));
    for _ in 0..UTS_ROUNDS {
        h = mix64(h.wrapping_add(0x9E3779B97F4A7C15));
    }
    h
}

/// The node's children: in `local` for the usual node, in a Vec for the
/// root (b0 of them); call `f` on the slice.
#[inline]
pub fn uts_with_kids<R>(nd: &UtsNode, f: impl FnOnce(&mut [UtsNode]) -> R) -> R {
    let k = uts_num_kids(nd);
    let kid = |i: usize| UtsNode {
        hash: uts_child_hash(nd.hash, i),
        height: nd.height + 1,
        root_kids: nd.root_kids,
        count: 0,
    };
    if k <= UTS_M {
        let mut local = [UtsNode::default(); UTS_M];
        for (i, slot) in local[..k].iter_mut().enumerate() {
            *slot = kid(i);
        }
        f(&mut local[..k])
    } else {
        let mut kids: Vec<UtsNode> = (0..k).map(kid).collect();
        f(&mut kids)
    }
}

/// A node's count once its children are done: itself and theirs.
#[inline]
pub fn uts_count(kids: &[UtsNode]) -> u64 {
    1 + kids.iter().map(|k| k.count).sum::<u64>()
}

#[inline(never)]
pub fn uts_seq(nd: &mut UtsNode) {
    nd.count = uts_with_kids(nd, |kids| {
        for kid in kids.iter_mut() {
            uts_seq(kid);
        }
        uts_count(kids)
    });
}

pub fn uts_run_seq(b0: i64) -> Option<(f64, u64)> {
    let mut root = uts_root(b0 as i32);
    let t0 = bench::driver::now();
    uts_seq(&mut root);
    Some((bench::driver::now() - t0, root.count))
}

pub fn uts_warmup_param(b0: i64) -> i64 {
    if b0 >= 8 { b0 / 8 } else { b0 }
}
