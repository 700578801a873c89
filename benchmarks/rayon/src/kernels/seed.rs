//! The seed notebook's workload (common/seed.h): task i sums the integers
//! below i; checksum the sum of all results, C(n, 3).

/// sum(m for m in range(n)), kept a loop of one scalar add per m: the empty
/// asm says `sum` may have changed, as the C version's does, so LLVM
/// neither finds the closed form nor vectorises.
#[inline(never)]
pub fn my_task(n: u64) -> u64 {
    let mut sum = 0u64;
    let mut m = 0u64;
    while m < n {
        sum = sum.wrapping_add(m);
        unsafe { std::arch::asm!("/* {0} */", inout(reg) sum, options(nomem, nostack, preserves_flags)) };
        m += 1;
    }
    sum
}

#[inline(never)]
pub fn seed_seq(results: &mut [u64]) {
    for (i, r) in results.iter_mut().enumerate() {
        *r = my_task(i as u64);
    }
}

pub fn seed_checksum(results: &[u64]) -> u64 {
    results.iter().fold(0u64, |s, &x| s.wrapping_add(x))
}

pub fn seed_run_seq(results: &mut [u64]) -> Option<(f64, u64)> {
    results.iter_mut().for_each(|x| *x = 0);
    let t0 = bench::driver::now();
    seed_seq(results);
    Some((bench::driver::now() - t0, seed_checksum(results)))
}

pub fn seed_warmup_param(n: i64) -> i64 {
    if n >= 4 { n / 4 } else { n }
}
