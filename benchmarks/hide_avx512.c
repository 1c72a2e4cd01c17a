/* hide_avx512.c - for the benchmarks' --isa avx2 mode: make this process's CPUID say that the
 * CPU has no AVX-512, so that a peer that picks its kernels from CPUID (onnxruntime's MLAS)
 * runs its AVX2 kernels on an AVX-512 machine, as it would on an AVX2-only host.
 *
 * How: Linux's CPUID faulting (arch_prctl ARCH_SET_CPUID 0, x86 CPUs with the cpuid_fault
 * feature) makes every CPUID instruction of the calling thread, and of the threads it starts
 * afterwards, raise SIGSEGV. The handler here runs the real CPUID with faulting briefly off,
 * clears the AVX-512 feature bits (leaf 7 and the AVX-512 state components of leaf 0xD),
 * writes the result to the interrupted registers and steps over the instruction. Only CPUID
 * changes: the instructions themselves still work, so this hides AVX-512 from code that asks,
 * and from nothing else.
 *
 * Not part of fastmlp: compiled by benchmarks/hide_avx512.py at run time, loaded with ctypes
 * in a benchmark worker process before the peer's library is imported. */
#define _GNU_SOURCE 1
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* leaf 7, sub-leaf 0: EBX AVX512F (16), DQ (17), IFMA (21), PF (26), ER (27), CD (28),
   BW (30), VL (31); ECX VBMI (1), VBMI2 (6), VNNI (11), BITALG (12), VPOPCNTDQ (14);
   EDX 4VNNIW (2), 4FMAPS (3), VP2INTERSECT (8), FP16 (23). Leaf 7, sub-leaf 1: EAX BF16 (5).
   Leaf 0xD, sub-leaf 0: EAX the XCR0 components opmask, ZMM_Hi256, Hi16_ZMM (5-7). */
#define L7_EBX ((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | \
                (1u << 30) | (1u << 31))
#define L7_ECX ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
#define L7_EDX ((1u << 2) | (1u << 3) | (1u << 8) | (1u << 23))

static long set_cpuid(unsigned long on) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID, on); }

static void on_sigsegv(int sig, siginfo_t *info, void *ctx_)
{
    (void)info;
    ucontext_t *ctx = (ucontext_t *)ctx_;
    greg_t *g = ctx->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)g[REG_RIP];
    if (ip[0] != 0x0f || ip[1] != 0xa2) {       /* a real fault: die of it as usual */
        signal(sig, SIG_DFL);
        return;
    }
    const unsigned leaf = (unsigned)g[REG_RAX], sub = (unsigned)g[REG_RCX];
    unsigned a, b, c, d;
    set_cpuid(1);
    __cpuid_count(leaf, sub, a, b, c, d);
    set_cpuid(0);
    if (leaf == 7 && sub == 0) {
        b &= ~L7_EBX;
        c &= ~L7_ECX;
        d &= ~L7_EDX;
    } else if (leaf == 7 && sub == 1) {
        a &= ~(1u << 5);
    } else if (leaf == 0xD && sub == 0) {
        a &= ~0xE0u;
    }
    g[REG_RAX] = a;
    g[REG_RBX] = b;
    g[REG_RCX] = c;
    g[REG_RDX] = d;
    g[REG_RIP] += 2;
}

/* 0: CPUID now hides AVX-512 in this thread and those it starts; < 0: not possible here
   (-1 no handler, -2 no CPUID faulting, -3 the check failed) */
int fm_bench_hide_avx512(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsegv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0) return -1;
    if (set_cpuid(0) != 0) return -2;
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & L7_EBX) ? -3 : 0;
}

/* 1 if CPUID, as this thread sees it, reports AVX-512 Foundation */
int fm_bench_avx512_visible(void)
{
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 16) & 1;
}
