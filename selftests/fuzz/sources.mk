FUZZ_pool_SRCS := userspace/lib/pool.c userspace/lib/pool_io.c userspace/lib/pool_index.c userspace/lib/pool_load.c userspace/lib/pool_repair.c kernel/utf16.c userspace/lib/log.c
