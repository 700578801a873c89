/* atomics.h: the one vocabulary for atomic access in forage.
 *
 * Every shared word is declared FG__ATOMIC(T) and touched only through the
 * fg__atomic_* macros below, so that (1) a model checker can compile the same
 * source against its own atomic types (issue: Relacy model of the deque), and
 * (2) the `tsan_friendly` build can swap the standalone fences ThreadSanitizer
 * does not model for seq_cst operations that it does (FG__TSAN_ORDER).
 *
 * Rule: relaxed needs no comment unless it surprises; every other order and
 * every fence carries a why-comment at its use naming the operation it pairs
 * with (docs/style.md, "Atomics").
 */
#ifndef FG_ATOMICS_H
#define FG_ATOMICS_H

#if defined(FG_RELACY) && FG_RELACY
/* Relacy mapping, for the model check only (tests/model/deque_relacy.cpp,
 * docs/design/verification.md): the same deque source compiled as C++ with
 * every shared word an rl::atomic<T>, so Relacy explores interleavings and
 * the stale values each load may see.  The translation unit includes
 * <relacy/relacy.hpp> first.  Never used by the library build. */
#  if !defined(__cplusplus) || !defined(RL_RELACY_HPP)
#    error "FG_RELACY: compile as C++ after #include <relacy/relacy.hpp>"
#  endif
#  include <string.h>

#  define FG__ATOMIC(T) rl::atomic<T>

#  define FG__RELAXED rl::mo_relaxed
#  define FG__ACQUIRE rl::mo_acquire
#  define FG__RELEASE rl::mo_release
#  define FG__ACQ_REL rl::mo_acq_rel
#  define FG__SEQ_CST rl::mo_seq_cst

/* C11's atomic_init is a plain store; a relaxed store is the closest
 * Relacy has.  The caller provides constructed rl::atomic objects. */
#  define fg__atomic_init(p, v)       ((p)->store((v), rl::mo_relaxed, $))
#  define fg__atomic_load(p, mo)      ((p)->load((mo), $))
#  define fg__atomic_store(p, v, mo)  ((p)->store((v), (mo), $))
#  define fg__atomic_exchange(p, v, mo)  ((p)->exchange((v), (mo), $))
#  define fg__atomic_fetch_add(p, v, mo) ((p)->fetch_add((v), (mo), $))
#  define fg__atomic_fetch_sub(p, v, mo) ((p)->fetch_sub((v), (mo), $))
#  define fg__atomic_fetch_or(p, v, mo)  ((p)->fetch_or((v), (mo), $))
#  define fg__atomic_cas(p, expected, desired, mo_ok, mo_fail) \
    ((p)->compare_exchange_strong(*(expected), (desired), (mo_ok), $, (mo_fail), $))

/* The fence takes its caller's name so that the model's fault-injection
 * builds can drop exactly one fence and show the check catches it:
 *   FG_MODEL_WEAKEN_TAKE_FENCE  the seq_cst fence of fg__deque_take [deque-take]
 *   FG_MODEL_WEAKEN_PUSH_FENCE  the release fence of fg__deque_push [deque-publish]
 * A dropped fence is a relaxed one (a no-op; Relacy rejects relaxed). */
#  define fg__atomic_fence(mo) fg__rl_fence((mo), __func__, $)
static inline void fg__rl_fence(rl::memory_order mo, const char *caller,
                                rl::debug_info_param info)
{
#  if defined(FG_MODEL_WEAKEN_TAKE_FENCE)
    if (mo == rl::mo_seq_cst && strcmp(caller, "fg__deque_take") == 0)
        return;
#  endif
#  if defined(FG_MODEL_WEAKEN_PUSH_FENCE)
    if (mo == rl::mo_release && strcmp(caller, "fg__deque_push") == 0)
        return;
#  endif
    (void)caller;
    rl::atomic_thread_fence(mo, info);
}
#else /* C11 */
#include <stdatomic.h>

#define FG__ATOMIC(T) _Atomic(T)

#define FG__RELAXED memory_order_relaxed
#define FG__ACQUIRE memory_order_acquire
#define FG__RELEASE memory_order_release
#define FG__ACQ_REL memory_order_acq_rel
#define FG__SEQ_CST memory_order_seq_cst

#define fg__atomic_init(p, v)       atomic_init((p), (v))
#define fg__atomic_load(p, mo)      atomic_load_explicit((p), (mo))
#define fg__atomic_store(p, v, mo)  atomic_store_explicit((p), (v), (mo))
#define fg__atomic_exchange(p, v, mo) atomic_exchange_explicit((p), (v), (mo))
#define fg__atomic_fetch_add(p, v, mo) atomic_fetch_add_explicit((p), (v), (mo))
#define fg__atomic_fetch_sub(p, v, mo) atomic_fetch_sub_explicit((p), (v), (mo))
#define fg__atomic_fetch_or(p, v, mo)  atomic_fetch_or_explicit((p), (v), (mo))
#define fg__atomic_cas(p, expected, desired, mo_ok, mo_fail) \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired), (mo_ok), (mo_fail))

/* fg__atomic_fence: atomic_thread_fence, except that on x86-64 the seq_cst
 * fence is spelled as a locked no-op on the top of the stack.  A locked RMW
 * is a full barrier on x86 (Intel SDM vol. 3, 8.2.2), which is what GCC
 * emits for the fence too; clang emits `mfence`, which measured 20.7 ns
 * against 2.7 ns for the locked op on this project's AMD EPYC machines and
 * made a join cost 30 ns instead of 7.  The "memory" clobber makes it a
 * full compiler barrier as well. */
static inline void fg__atomic_fence(memory_order mo)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (mo == memory_order_seq_cst) {
        __asm__ volatile("lock orq $0, (%%rsp)" ::: "memory", "cc");
        return;
    }
#endif
    atomic_thread_fence(mo);
}
#endif /* FG_RELACY */

/* FG__TSAN_ORDER(normal, tsan): ThreadSanitizer ignores standalone fences and
 * would report false races on fence-based protocols.  Code that relies on a
 * fence writes its access as FG__TSAN_ORDER(relaxed, stronger) and the fence
 * as fg__fence_unless_tsan(); the tsan_friendly build then gets the
 * equivalent seq_cst/acquire/release operations instead. */
#if defined(FG_TSAN_FRIENDLY) && FG_TSAN_FRIENDLY
#  define FG__TSAN_ORDER(normal, tsan) (tsan)
#  define fg__fence_unless_tsan(mo)    ((void)0)
#else
#  define FG__TSAN_ORDER(normal, tsan) (normal)
#  define fg__fence_unless_tsan(mo)    fg__atomic_fence(mo)
#endif

/* A pause hint for spin loops: lets the sibling hyperthread run and saves
 * power; compiles to nothing where no hint exists. */
static inline void fg__cpu_relax(void)
{
#if defined(FG_RELACY) && FG_RELACY
    rl::yield(1, $); /* tells Relacy's schedulers this thread spins */
#elif defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield" ::: "memory");
#endif
}

#endif /* FG_ATOMICS_H */
