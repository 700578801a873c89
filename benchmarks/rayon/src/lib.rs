//! What the rayon peer's programs share: the driver (the options, CSV line
//! and repetition loop of benchmarks/common/bench.h and driver.h) and the
//! kernels with their sequential twins, ported from benchmarks/common/ so
//! that every runtime computes the same trees and the same checksums.
//!
//! Twins and leaves are `#[inline(never)]` and `#[no_mangle]`: a real call
//! under the same symbol as in the C programs, so that matrix.py --quick can
//! check their machine code the same way (fib_seq calls itself twice,
//! my_task stays a scalar loop).

pub mod driver;
pub mod fib;
pub mod matmul;
pub mod nqueens;
pub mod parallel_for;
pub mod seed;
pub mod uts;

/// splitmix64's finaliser, as common/kernel.h's bench_mix64.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58476D1CE4E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D049BB133111EB);
    x ^ (x >> 31)
}
