//! fib-rayon: fib(n) without a cutoff, each call one rayon::join of the two
//! recursive calls (rayon's own fib; the same argument order as forage's
//! fg_join).  Kernel and twin from kernels/fib.rs, the ports of common/fib.h.
//!
//! usage: fib-rayon [--threads 1,2] [--reps 5] [--n 38] [--no-header]

#[path = "../kernels/fib.rs"]
mod fib;

use bench::driver::{self, Variant, Workload};
use fib::*;

fn fib_rayon(n: i32) -> u64 {
    let mut a = FibArg { n, result: 0 };
    if fib_is_leaf(&mut a) {
        return a.result;
    }
    let (mut x, mut y) = fib_split(&a);
    let (rx, ry) = rayon::join(|| fib_rayon(x.n), || fib_rayon(y.n));
    x.result = rx;
    y.result = ry;
    fib_add_up(&mut a, &x, &y);
    a.result
}

fn main() {
    let o = driver::parse(38);
    if o.param > 92 {
        eprintln!("fib: --n must be at most 92 (64-bit result)");
        std::process::exit(2);
    }
    let variants = [Variant { runtime: "rayon", grain: 0, kind: 0 }];
    let run = |_: &Variant, threads: usize, n: i64| {
        let (t, r) = driver::timed(threads, || fib_rayon(n as i32));
        Some((t, r))
    };
    let w = Workload {
        name: "fib",
        seq: &fib_run_seq,
        variants: &variants,
        run: &run,
        warmup_param: fib_warmup_param,
    };
    std::process::exit(driver::drive(&o, &w));
}
