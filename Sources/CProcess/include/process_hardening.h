#ifndef MCPCONN_PROCESS_HARDENING_H
#define MCPCONN_PROCESS_HARDENING_H

// Also in this module: what mcpconn and mcpconn-reaper agree on.
#include "reaper_protocol.h"
#include "memory_file.h"

/// Keeps decrypted secrets out of core dumps: RLIMIT_CORE 0 and, on Linux, PR_SET_DUMPABLE 0 (which also keeps
/// other processes of the same user from attaching with ptrace or reading /proc/PID/mem). prctl is variadic in C,
/// so Swift cannot call it directly. Returns 0, or -1 with errno set.
int mcpconn_forbid_core_dumps(void);

/// Puts the default action back for the crash signals (SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV)
/// whose handler is a function: Swift's runtime installs its backtracer there, and the backtracer prints
/// registers and the memory they point to on stderr, where a decrypted secret could appear. Signals the
/// parent set to be ignored stay ignored. Returns 0, or -1 with errno set.
int mcpconn_reset_crash_handlers(void);

/// 1 when the process may dump core (PR_GET_DUMPABLE), 0 when not; -1 where unknown.
int mcpconn_is_dumpable(void);

#endif
