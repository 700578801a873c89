//! Links matmul's leaf into matmul-rayon: the C object every matmul program
//! shares (benchmarks/common/matmul_leaf.c, built by benchmarks/meson.build,
//! its path passed by build.sh), so that rayon runs the same machine code
//! as the other runtimes.

fn main() {
    println!("cargo:rerun-if-env-changed=BENCH_MM_LEAF_OBJ");
    let obj = std::env::var("BENCH_MM_LEAF_OBJ")
        .expect("BENCH_MM_LEAF_OBJ: the path of matmul_leaf.o (build.sh sets it; run build.sh, not cargo)");
    println!("cargo:rerun-if-changed={}", obj);
    println!("cargo:rustc-link-arg-bin=matmul-rayon={}", obj);
}
