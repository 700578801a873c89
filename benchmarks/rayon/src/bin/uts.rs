//! uts-rayon: unbalanced tree search, the children of a node run as a
//! parallel iterator (par_iter_mut).  Tree and twin from kernels/uts.rs, the
//! ports of common/uts.h.
//!
//! usage: uts-rayon [--threads 1,2] [--reps 5] [--n B0] [--no-header]

#[path = "../kernels/kernel.rs"]
mod kernel;
#[path = "../kernels/uts.rs"]
mod uts;

use bench::driver::{self, Variant, Workload};
use uts::*;
use rayon::prelude::*;

fn uts_rayon(nd: &mut UtsNode) {
    nd.count = uts_with_kids(nd, |kids| {
        kids.par_iter_mut().for_each(uts_rayon);
        uts_count(kids)
    });
}

fn main() {
    let o = driver::parse(2000);
    if o.param < 1 || o.param > 1_000_000 {
        eprintln!("uts: --n (the root's children) must be in 1..1000000");
        std::process::exit(2);
    }
    let variants = [Variant { runtime: "rayon", grain: 0, kind: 0 }];
    let run = |_: &Variant, threads: usize, b0: i64| {
        let mut root = uts_root(b0 as i32);
        let (t, _) = driver::timed(threads, || uts_rayon(&mut root));
        Some((t, root.count))
    };
    let w = Workload {
        name: "uts",
        seq: &uts_run_seq,
        variants: &variants,
        run: &run,
        warmup_param: uts_warmup_param,
    };
    std::process::exit(driver::drive(&o, &w));
}
