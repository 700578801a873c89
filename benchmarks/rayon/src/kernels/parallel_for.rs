//! n tiny iterations, out[i] = pf_mix(i) (common/parallel_for.h).

#[inline]
pub fn pf_mix(i: usize) -> u32 {
    let x = (i as u64).wrapping_mul(0x9E3779B97F4A7C15);
    (x ^ (x >> 29)) as u32
}

/// One chunk starting at index `begin`; the twin is one call over all.
#[inline(never)]
pub fn pf_body(begin: usize, out: &mut [u32]) {
    for (j, x) in out.iter_mut().enumerate() {
        *x = pf_mix(begin + j);
    }
}

pub fn pf_checksum(out: &[u32]) -> u64 {
    out.iter().map(|&x| x as u64).sum()
}

pub fn pf_run_seq(out: &mut [u32]) -> Option<(f64, u64)> {
    out.iter_mut().for_each(|x| *x = 0);
    let t0 = bench::driver::now();
    pf_body(0, out);
    Some((bench::driver::now() - t0, pf_checksum(out)))
}

/// n / 8, as pf_warmup_param.
pub fn pf_warmup_param(n: i64) -> i64 {
    if n >= 8 { n / 8 } else { n }
}
