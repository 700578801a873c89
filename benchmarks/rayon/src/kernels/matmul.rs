//! C += A * B by recursive quadrants down to MM_LEAF x MM_LEAF blocks
//! (common/matmul.h): two phases of four independent quadrant products per
//! node; entries small integers, so the checksum is exact in any order.

use crate::kernel::mix64;

pub const MM_LEAF: usize = 32;

/// One block product, laid out as common/matmul.h's mm_arg (the leaf is
/// the C one).  Raw pointers: the four products of a phase write disjoint
/// quadrants of C, which the borrow checker cannot see.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MmArg {
    pub c: *mut f64,
    pub a: *const f64,
    pub b: *const f64,
    pub n: usize,
    pub ld: usize,
}

// Safety: the blocks a phase hands to other threads never overlap in C, and
// A and B are only read.
unsafe impl Send for MmArg {}
unsafe impl Sync for MmArg {}

extern "C" {
    /// The leaf of every matmul program: common/matmul_leaf.c, one object
    /// linked in by build.rs, so that rayon runs the same machine code.
    #[link_name = "mm_leaf"]
    fn mm_leaf_c(m: *const MmArg);
}

#[inline]
pub fn mm_leaf(m: &MmArg) {
    // Safety: m describes blocks inside the three matrices (mm_phase).
    unsafe { mm_leaf_c(m) }
}

#[inline]
pub fn mm_is_leaf(m: &MmArg) -> bool {
    if m.n > MM_LEAF {
        return false;
    }
    mm_leaf(m);
    true
}

/// The four independent products of phase 0 or 1.
#[inline]
pub fn mm_phase(m: &MmArg, phase: usize) -> [MmArg; 4] {
    let (h, ld) = (m.n / 2, m.ld);
    let q = |i: usize, j: usize| unsafe {
        MmArg {
            c: m.c.add(i * h * ld + j * h),
            a: m.a.add(i * h * ld + phase * h),
            b: m.b.add(phase * h * ld + j * h),
            n: h,
            ld,
        }
    };
    [q(0, 0), q(0, 1), q(1, 0), q(1, 1)]
}

#[inline(never)]
pub fn mm_seq(m: &MmArg) {
    if mm_is_leaf(m) {
        return;
    }
    for phase in 0..2 {
        for q in &mm_phase(m, phase) {
            mm_seq(q);
        }
    }
}

/// The three matrices of a program, n x n each.
pub struct Matrices {
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub c: Vec<f64>,
}

impl Matrices {
    pub fn new(n: usize) -> Matrices {
        let a = (0..n * n).map(|i| (mix64(2 * i as u64) & 7) as f64).collect();
        let b = (0..n * n).map(|i| (mix64(2 * i as u64 + 1) & 7) as f64).collect();
        Matrices { a, b, c: vec![0.0; n * n] }
    }

    /// The whole product at size n (<= the allocated size), C cleared.
    pub fn whole(&mut self, n: usize) -> MmArg {
        self.c[..n * n].iter_mut().for_each(|x| *x = 0.0);
        MmArg { c: self.c.as_mut_ptr(), a: self.a.as_ptr(), b: self.b.as_ptr(), n, ld: n }
    }

    pub fn checksum(&self, n: usize) -> u64 {
        self.c[..n * n]
            .iter()
            .enumerate()
            .fold(0u64, |s, (i, &x)| s.wrapping_add((x as u64).wrapping_mul(i as u64 + 1)))
    }
}

pub fn mm_warmup_param(n: i64) -> i64 {
    if n >= 64 { n / 2 } else { n }
}
