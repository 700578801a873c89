//! fib(n) without a cutoff (common/fib.h): leaf test, split into n-1 and
//! n-2, run both, add up.  The twin keeps the C twin's shape: one argument
//! block by reference, two real recursive calls.

#[derive(Clone, Copy, Default)]
pub struct FibArg {
    pub n: i32,
    pub result: u64,
}

/// n < 2: the result is n, no children.
#[inline]
pub fn fib_is_leaf(a: &mut FibArg) -> bool {
    if a.n >= 2 {
        return false;
    }
    a.result = a.n as u64;
    true
}

#[inline]
pub fn fib_split(a: &FibArg) -> (FibArg, FibArg) {
    (FibArg { n: a.n - 1, result: 0 }, FibArg { n: a.n - 2, result: 0 })
}

#[inline]
pub fn fib_add_up(a: &mut FibArg, x: &FibArg, y: &FibArg) {
    a.result = x.result + y.result;
}

#[inline(never)]
pub fn fib_seq(a: &mut FibArg) {
    if fib_is_leaf(a) {
        return;
    }
    let (mut x, mut y) = fib_split(a);
    fib_seq(&mut x);
    fib_seq(&mut y);
    fib_add_up(a, &x, &y);
}

pub fn fib_run_seq(n: i64) -> Option<(f64, u64)> {
    let mut a = FibArg { n: n as i32, result: 0 };
    let t0 = bench::driver::now();
    fib_seq(&mut a);
    Some((bench::driver::now() - t0, a.result))
}

/// fib(n - 8), as fib_warmup_param.
pub fn fib_warmup_param(n: i64) -> i64 {
    if n > 16 { n - 8 } else { n }
}
