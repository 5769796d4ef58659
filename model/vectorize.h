// BFT_VECTOR_CLONES: for the hand-written loops of the CPU kernels (kernels.cpp, winograd.cpp),
// written so that GCC vectorises them; target_clones builds AVX-512 and AVX2 versions beside the
// baseline one and picks at load time. x86-64-v4 rather than plain avx512f: without AVX512VL and BW
// GCC narrows float to bf16 lane by lane (the bf16 normalisation's output pass, 4M elements: 3.4
// against 1.2 ms); x86-64-v3 is AVX2 with FMA.
// Not under ThreadSanitizer: the clones' resolvers run while the dynamic loader relocates, before
// TSan's runtime is up, and their instrumented code crashes there.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define BFT_VECTOR_CLONES
#else
#define BFT_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
