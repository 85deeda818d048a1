#include "process_hardening.h"

#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

int mcpconn_forbid_core_dumps(void) {
    struct rlimit none = {0, 0};
    int rc = setrlimit(RLIMIT_CORE, &none);
#if defined(__linux__)
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) rc = -1;
#endif
    return rc;
}

int mcpconn_is_dumpable(void) {
#if defined(__linux__)
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
#else
    return -1;
#endif
}

int mcpconn_reset_crash_handlers(void) {
    static const int crash_signals[] = {SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV};
    int rc = 0;
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        struct sigaction current;
        if (sigaction(crash_signals[i], NULL, &current) != 0) {
            rc = -1;
            continue;
        }
        if (current.sa_handler == SIG_IGN || current.sa_handler == SIG_DFL) continue;
        struct sigaction standard = {0};
        standard.sa_handler = SIG_DFL;
        sigemptyset(&standard.sa_mask);
        if (sigaction(crash_signals[i], &standard, NULL) != 0) rc = -1;
    }
    return rc;
}
