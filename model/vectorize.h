// BFT_VECTOR_CLONES: for the hand-written loops of the CPU kernels (kernels.cpp, winograd.cpp),
// written so that GCC vectorises them; target_clones builds AVX-512 and AVX2 versions beside the
// baseline one and picks at load time.
// Not under ThreadSanitizer: the clones' resolvers run while the dynamic loader relocates, before
// TSan's runtime is up, and their instrumented code crashes there.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define BFT_VECTOR_CLONES
#else
#define BFT_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
