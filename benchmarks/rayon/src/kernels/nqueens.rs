//! n queens (common/nqueens.h): one child per legal column at every level;
//! checksum the number of solutions.

pub const NQ_MAX: usize = 16;

#[derive(Clone, Copy, Default)]
pub struct NqArg {
    pub n: i32,
    pub row: i32,
    pub cols: u32,
    pub diag1: u32,
    pub diag2: u32,
    pub solutions: u64,
}

pub fn nq_root(n: i32) -> NqArg {
    NqArg { n, ..Default::default() }
}

/// The children of a node, written to kids: one per column not attacked.
#[inline]
pub fn nq_children(a: &NqArg, kids: &mut [NqArg; NQ_MAX]) -> usize {
    let mut k = 0;
    for c in 0..a.n {
        let bit = 1u32 << c;
        let d1 = 1u32 << (a.row + c);
        let d2 = 1u32 << (a.row - c + a.n - 1);
        if (a.cols & bit) != 0 || (a.diag1 & d1) != 0 || (a.diag2 & d2) != 0 {
            continue;
        }
        kids[k] = NqArg {
            n: a.n,
            row: a.row + 1,
            cols: a.cols | bit,
            diag1: a.diag1 | d1,
            diag2: a.diag2 | d2,
            solutions: 0,
        };
        k += 1;
    }
    k
}

#[inline]
pub fn nq_is_leaf(a: &mut NqArg) -> bool {
    if a.row != a.n {
        return false;
    }
    a.solutions = 1;
    true
}

#[inline]
pub fn nq_add_up(a: &mut NqArg, kids: &[NqArg]) {
    a.solutions = kids.iter().map(|k| k.solutions).sum();
}

#[inline(never)]
pub fn nq_seq(a: &mut NqArg) {
    if nq_is_leaf(a) {
        return;
    }
    let mut kids = [NqArg::default(); NQ_MAX];
    let k = nq_children(a, &mut kids);
    for kid in &mut kids[..k] {
        nq_seq(kid);
    }
    nq_add_up(a, &kids[..k]);
}

pub fn nq_run_seq(n: i64) -> Option<(f64, u64)> {
    let mut a = nq_root(n as i32);
    let t0 = bench::driver::now();
    nq_seq(&mut a);
    Some((bench::driver::now() - t0, a.solutions))
}

pub fn nq_warmup_param(n: i64) -> i64 {
    if n > 6 { n - 2 } else { n }
}
