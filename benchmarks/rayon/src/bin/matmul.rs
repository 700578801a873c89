//! matmul-rayon: C += A * B by recursive quadrants; the four products of a
//! phase run as rayon::join(join(q0, q1), join(q2, q3)).  Kernel and twin
//! from kernels/matmul.rs, the ports of common/matmul.h.
//!
//! usage: matmul-rayon [--threads 1,2] [--reps 5] [--n N] [--no-header]

#[path = "../kernels/kernel.rs"]
mod kernel;
#[path = "../kernels/matmul.rs"]
mod matmul;

use std::cell::RefCell;

use bench::driver::{self, Variant, Workload};
use matmul::*;

fn mm_rayon(m: &MmArg) {
    if mm_is_leaf(m) {
        return;
    }
    for phase in 0..2 {
        let q = mm_phase(m, phase);
        rayon::join(
            || rayon::join(|| mm_rayon(&q[0]), || mm_rayon(&q[1])),
            || rayon::join(|| mm_rayon(&q[2]), || mm_rayon(&q[3])),
        );
    }
}

fn main() {
    let o = driver::parse(1024);
    let n = o.param as usize;
    if n < 1 || n > 16384 || !n.is_power_of_two() {
        eprintln!("matmul: --n must be a power of two up to 16384");
        std::process::exit(2);
    }
    let mats = RefCell::new(Matrices::new(n));
    let variants = [Variant { runtime: "rayon", grain: 0, kind: 0 }];
    let seq = |n: i64| {
        let mut mats = mats.borrow_mut();
        let m = mats.whole(n as usize);
        let t0 = driver::now();
        mm_seq(&m);
        Some((driver::now() - t0, mats.checksum(n as usize)))
    };
    let run = |_: &Variant, threads: usize, n: i64| {
        let mut mats = mats.borrow_mut();
        let m = mats.whole(n as usize);
        let (t, _) = driver::timed(threads, || mm_rayon(&m));
        Some((t, mats.checksum(n as usize)))
    };
    let w = Workload {
        name: "matmul",
        seq: &seq,
        variants: &variants,
        run: &run,
        warmup_param: mm_warmup_param,
    };
    std::process::exit(driver::drive(&o, &w));
}
