//! The options, CSV line and repetition loop of benchmarks/common/driver.h,
//! with the same meaning: per rep (rep -1 is the untimed warm-up, at the
//! workload's warm-up size) the sequential twin once, then every selected
//! variant at every thread count; every checksum must equal the twin's,
//! else the program says so and exits 1.  --list, --variant, --grain and
//! --expect run one configuration per process, for matrix.py's rounds.
//!
//! A variant runs on a rayon ThreadPool of `threads` threads, built outside
//! the clock on first use and kept for the later reps (`pool`); only
//! `install` is timed.  The calling thread is not one of the pool's.

use std::sync::Mutex;
use std::time::Instant;

use rayon::ThreadPool;

pub struct Opts {
    pub threads: Vec<usize>,
    pub reps: usize,
    pub param: i64,
    pub header: bool,
    pub variant: Option<String>,
    pub grain: Option<i64>,
    pub expect: Option<u64>,
    pub list: bool,
}

fn usage(default_param: i64) -> ! {
    let prog = std::env::args().next().unwrap_or_default();
    eprintln!(
        "usage: {} [--threads P[,P...]] [--reps R] [--n N (default {})] [--no-header]\n       \
         [--variant RUNTIME [--grain G]] [--expect CHECKSUM] [--list]",
        prog, default_param
    );
    std::process::exit(2);
}

/// The command line, or exit 2 with the usage line.
pub fn parse(default_param: i64) -> Opts {
    let mut o = Opts {
        threads: vec![2],
        reps: 5,
        param: default_param,
        header: true,
        variant: None,
        grain: None,
        expect: None,
        list: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1);
        match (args[i].as_str(), value) {
            ("--no-header", _) => o.header = false,
            ("--list", _) => o.list = true,
            ("--threads", Some(v)) => {
                o.threads = v
                    .split(',')
                    .map(|s| s.parse::<usize>().ok().filter(|&t| (1..=512).contains(&t)))
                    .collect::<Option<Vec<_>>>()
                    .unwrap_or_else(|| usage(default_param));
                i += 1;
            }
            ("--reps", Some(v)) => {
                o.reps = v
                    .parse()
                    .ok()
                    .filter(|&r| (1..=101).contains(&r))
                    .unwrap_or_else(|| usage(default_param));
                i += 1;
            }
            ("--n", Some(v)) => {
                o.param = v.parse().ok().filter(|&n| n >= 0).unwrap_or_else(|| usage(default_param));
                i += 1;
            }
            ("--variant", Some(v)) => {
                o.variant = Some(v.clone());
                i += 1;
            }
            ("--grain", Some(v)) => {
                o.grain = Some(v.parse().unwrap_or_else(|_| usage(default_param)));
                i += 1;
            }
            ("--expect", Some(v)) => {
                o.expect = Some(v.parse().unwrap_or_else(|_| usage(default_param)));
                i += 1;
            }
            _ => usage(default_param),
        }
        i += 1;
    }
    if o.grain.is_some() && o.variant.is_none() {
        usage(default_param);
    }
    o
}

/// Seconds on the monotonic clock (CLOCK_MONOTONIC, as bench_now).
pub fn now() -> f64 {
    thread_local!(static START: Instant = Instant::now());
    START.with(|s| s.elapsed().as_secs_f64())
}

/// bench.h's CSV line.
#[allow(clippy::too_many_arguments)]
pub fn row(runtime: &str, workload: &str, param: i64, grain: i64, threads: usize, rep: usize,
           seconds: f64, checksum: u64) {
    println!("{},{},{},{},{},{},{:.6},{}", runtime, workload, param, grain, threads, rep,
             seconds, checksum);
}

/// The pool of `threads` threads, built on first use and kept (leaked) for
/// the process's life, as a program keeps its pool between loops.
pub fn pool(threads: usize) -> &'static ThreadPool {
    static POOLS: Mutex<Vec<(usize, &'static ThreadPool)>> = Mutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap();
    if let Some(&(_, p)) = pools.iter().find(|(t, _)| *t == threads) {
        return p;
    }
    let p: &'static ThreadPool = Box::leak(Box::new(
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("rayon pool"),
    ));
    pools.push((threads, p));
    p
}

/// `f` on the pool of `threads`: (seconds of install alone, its result).
pub fn timed<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> (f64, R) {
    let p = pool(threads);
    let t0 = now();
    let r = p.install(f);
    (now() - t0, r)
}

#[derive(Clone, Copy)]
pub struct Variant {
    pub runtime: &'static str, // CSV runtime column
    pub grain: i64,            // CSV grain column
    pub kind: i32,             // the program's own knob
}

pub struct Workload<'a> {
    pub name: &'static str,
    /// The twin at size n: (seconds, checksum), or None on a failure.
    pub seq: &'a dyn Fn(i64) -> Option<(f64, u64)>,
    pub variants: &'a [Variant],
    /// One run: (seconds, checksum), or None on a failure.
    pub run: &'a dyn Fn(&Variant, usize, i64) -> Option<(f64, u64)>,
    pub warmup_param: fn(i64) -> i64,
}

const SEQ: &str = "seq-rayon";

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

/// The whole program after option parsing: the exit code.
pub fn drive(o: &Opts, w: &Workload) -> i32 {
    if o.list {
        println!("{},0,1", SEQ);
        for v in w.variants {
            println!("{},{},0", v.runtime, v.grain);
        }
        return 0;
    }
    let seq_only = o.variant.as_deref() == Some(SEQ);
    let selected: Vec<&Variant> = w
        .variants
        .iter()
        .filter(|v| match &o.variant {
            None => true,
            Some(name) => name == v.runtime && o.grain.map_or(true, |g| g == v.grain),
        })
        .collect();
    if !seq_only && selected.is_empty() {
        eprintln!("{}: no variant {} (see --list)", w.name, o.variant.as_deref().unwrap_or(""));
        return 2;
    }
    if o.header {
        println!("runtime,workload,param,grain,threads,rep,seconds,checksum");
    }
    let mut tseq = Vec::new();
    let mut times = vec![Vec::new(); selected.len() * o.threads.len()];
    for rep in -1..o.reps as i64 {
        let param = if rep < 0 { (w.warmup_param)(o.param) } else { o.param };
        let mut expect = o.expect.unwrap_or(0);
        if rep < 0 || o.expect.is_none() || seq_only {
            let (t, sum) = match (w.seq)(param) {
                Some(ts) => ts,
                None => {
                    eprintln!("{}: the sequential twin failed", w.name);
                    return 1;
                }
            };
            if rep >= 0 && o.expect.map_or(false, |e| e != sum) {
                eprintln!("{}: {} checksum {} != --expect {}", w.name, SEQ, sum, expect);
                return 1;
            }
            expect = sum;
            if rep >= 0 {
                tseq.push(t);
                row(SEQ, w.name, o.param, 0, 1, rep as usize, t, sum);
            }
        }
        if seq_only {
            continue;
        }
        for (vi, v) in selected.iter().enumerate() {
            for (ti, &threads) in o.threads.iter().enumerate() {
                match (w.run)(v, threads, param) {
                    Some((t, sum)) if sum == expect => {
                        if rep >= 0 {
                            times[vi * o.threads.len() + ti].push(t);
                            row(v.runtime, w.name, param, v.grain, threads, rep as usize, t, sum);
                        }
                    }
                    got => {
                        eprintln!("{}: {} grain {} P={}: {} (checksum {}, sequential {})",
                                  w.name, v.runtime, v.grain, threads,
                                  if got.is_none() { "run failed" } else { "checksum mismatch" },
                                  got.map_or(0, |g| g.1), expect);
                        return 1;
                    }
                }
            }
        }
    }
    let ms = if tseq.is_empty() { None } else { Some(median(&mut tseq)) };
    eprint!("{}({}): median of {} reps", w.name, o.param, o.reps);
    if let Some(ms) = ms {
        eprint!(": {} {:.4} s", SEQ, ms);
    }
    eprintln!();
    for (vi, v) in selected.iter().enumerate() {
        for (ti, &threads) in o.threads.iter().enumerate() {
            let mp = median(&mut times[vi * o.threads.len() + ti]);
            eprint!("  {:<18} grain {:6} P={}: {:.4} s", v.runtime, v.grain, threads, mp);
            if let Some(ms) = ms {
                eprint!("  Tp/Tseq {:.2}  Tseq/Tp {:.2}", mp / ms, ms / mp);
            }
            eprintln!();
        }
    }
    0
}
