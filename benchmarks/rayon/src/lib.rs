//! What the rayon peer's programs share: the driver (the options, CSV line
//! and repetition loop of benchmarks/common/bench.h and driver.h).
//!
//! The kernels and their sequential twins, ported from benchmarks/common/
//! so that every runtime computes the same trees and the same checksums,
//! are in kernels/ and compiled into each program as its own modules
//! (`#[path]`), not into this library: a function of a library crate is
//! called through the GOT (rustc cannot know the crate ends up in an
//! executable), which would put an indirect call in every recursive call of
//! a twin.  Twins and leaves are `#[inline(never)]`, a real call as in the
//! C programs, so that matrix.py --quick can check their machine code the
//! same way (fib_seq calls itself twice, my_task stays a scalar loop).

pub mod driver;
