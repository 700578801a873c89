//! parallel_for-rayon: out[i] = pf_mix(i) over n indices, two ways:
//!   rayon-chunks  par_chunks_mut(G): chunks of exactly G indices, one
//!                 pf_body call each (forage and oneTBB call the same body
//!                 per chunk), the chunk list split by rayon's adaptive
//!                 splitter;
//!   rayon-minlen  par_iter_mut().with_min_len(G): rayon's adaptive
//!                 splitting, never below G indices, the body inlined per
//!                 index (at G = 1: rayon's default, its "auto").
//! Body and twin from kernels/parallel_for.rs, the ports of
//! common/parallel_for.h.
//!
//! usage: parallel_for-rayon [--threads 1,2] [--reps 5] [--n 10000000]

#[path = "../kernels/parallel_for.rs"]
mod parallel_for;

use std::cell::RefCell;

use bench::driver::{self, Variant, Workload};
use parallel_for::*;
use rayon::prelude::*;

const CHUNKS: i32 = 0;
const MINLEN: i32 = 1;

fn main() {
    let o = driver::parse(10_000_000);
    let out = RefCell::new(vec![0u32; o.param as usize + 1]);
    let mut variants = Vec::new();
    for (runtime, kind) in [("rayon-chunks", CHUNKS), ("rayon-minlen", MINLEN)] {
        for grain in [1, 16, 256, 4096, 65536] {
            variants.push(Variant { runtime, grain, kind });
        }
    }
    let seq = |n: i64| pf_run_seq(&mut out.borrow_mut()[..n as usize]);
    let run = |v: &Variant, threads: usize, n: i64| {
        let mut out = out.borrow_mut();
        let out = &mut out[..n as usize];
        out.iter_mut().for_each(|x| *x = 0);
        let g = v.grain as usize;
        let (t, _) = if v.kind == CHUNKS {
            driver::timed(threads, || {
                out.par_chunks_mut(g).enumerate().for_each(|(c, chunk)| pf_body(c * g, chunk))
            })
        } else {
            driver::timed(threads, || {
                out.par_iter_mut().enumerate().with_min_len(g).for_each(|(i, x)| *x = pf_mix(i))
            })
        };
        Some((t, pf_checksum(out)))
    };
    let w = Workload {
        name: "parallel_for",
        seq: &seq,
        variants: &variants,
        run: &run,
        warmup_param: pf_warmup_param,
    };
    std::process::exit(driver::drive(&o, &w));
}
