//! nqueens-rayon: n queens, the legal columns of a node run as a parallel
//! iterator over the children (par_iter_mut), rayon's idiom: it splits the
//! child list adaptively instead of making one task per column.  Kernel
//! and twin from kernels/nqueens.rs, the ports of common/nqueens.h.
//!
//! usage: nqueens-rayon [--threads 1,2] [--reps 5] [--n 13] [--no-header]

#[path = "../kernels/nqueens.rs"]
mod nqueens;

use bench::driver::{self, Variant, Workload};
use nqueens::*;
use rayon::prelude::*;

fn nq_rayon(a: &mut NqArg) {
    if nq_is_leaf(a) {
        return;
    }
    let mut kids = [NqArg::default(); NQ_MAX];
    let k = nq_children(a, &mut kids);
    kids[..k].par_iter_mut().for_each(nq_rayon);
    nq_add_up(a, &kids[..k]);
}

fn main() {
    let o = driver::parse(13);
    if o.param < 1 || o.param > NQ_MAX as i64 {
        eprintln!("nqueens: --n must be in 1..{}", NQ_MAX);
        std::process::exit(2);
    }
    let variants = [Variant { runtime: "rayon", grain: 0, kind: 0 }];
    let run = |_: &Variant, threads: usize, n: i64| {
        let mut a = nq_root(n as i32);
        let (t, _) = driver::timed(threads, || nq_rayon(&mut a));
        Some((t, a.solutions))
    };
    let w = Workload {
        name: "nqueens",
        seq: &nq_run_seq,
        variants: &variants,
        run: &run,
        warmup_param: nq_warmup_param,
    };
    std::process::exit(driver::drive(&o, &w));
}
