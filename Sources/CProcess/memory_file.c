#define _GNU_SOURCE
#include "memory_file.h"

#include <errno.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

int mcpconn_memory_file(const char *name) {
#if defined(__linux__)
    return memfd_create(name, MFD_CLOEXEC);
#else
    (void)name;
    errno = ENOSYS;
    return -1;
#endif
}
