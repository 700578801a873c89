//! seed-rayon: the seed workload, task i = my_task(i): rayon-chunks runs
//! par_chunks_mut(B) (batches of exactly B tasks, the batch list split by
//! rayon's adaptive splitter) at B = 1, 10, 100, 1000, 10000; rayon-auto
//! runs par_iter_mut() with rayon's own splitting, filed under batch -1
//! ("auto").  Task and twin from kernels/seed.rs, the ports of common/seed.h.
//!
//! usage: seed-rayon [--threads 2] [--reps 5] [--n 40000]

#[path = "../kernels/seed.rs"]
mod seed;

use std::cell::RefCell;

use bench::driver::{self, Variant, Workload};
use seed::*;
use rayon::prelude::*;

fn main() {
    let o = driver::parse(40_000);
    let results = RefCell::new(vec![0u64; o.param as usize + 1]);
    let mut variants: Vec<Variant> = [1, 10, 100, 1000, 10000]
        .iter()
        .map(|&grain| Variant { runtime: "rayon-chunks", grain, kind: 0 })
        .collect();
    variants.push(Variant { runtime: "rayon-auto", grain: -1, kind: 1 });
    let seq = |n: i64| seed_run_seq(&mut results.borrow_mut()[..n as usize]);
    let run = |v: &Variant, threads: usize, n: i64| {
        let mut results = results.borrow_mut();
        let r = &mut results[..n as usize];
        r.iter_mut().for_each(|x| *x = 0);
        let (t, _) = if v.grain > 0 {
            let b = v.grain as usize;
            driver::timed(threads, || {
                r.par_chunks_mut(b).enumerate().for_each(|(c, chunk)| {
                    for (j, x) in chunk.iter_mut().enumerate() {
                        *x = my_task((c * b + j) as u64);
                    }
                })
            })
        } else {
            driver::timed(threads, || {
                r.par_iter_mut().enumerate().for_each(|(i, x)| *x = my_task(i as u64))
            })
        };
        Some((t, seed_checksum(r)))
    };
    let w = Workload {
        name: "seed",
        seq: &seq,
        variants: &variants,
        run: &run,
        warmup_param: seed_warmup_param,
    };
    std::process::exit(driver::drive(&o, &w));
}
