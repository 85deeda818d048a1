#ifndef MCPCONN_REAPER_PROTOCOL_H
#define MCPCONN_REAPER_PROTOCOL_H

#include <signal.h>

/// What mcpconn and mcpconn-reaper (Sources/mcpconn-reaper/main.c) agree on.
///
/// mcpconn starts a local server as `mcpconn-reaper PARENT_PID -- PATH ARGS...`. The reaper leads the process
/// group mcpconn signals and runs PATH (argv[0] = PATH) as its child in that group. It ignores SIGTERM, SIGINT
/// and SIGHUP, which are for the server, and ends every descendant of its own (SIGKILL), reaps them, and exits
/// like the server did when: the server exits, mcpconn sends it MCPCONN_REAPER_END_SIGNAL, or mcpconn (PARENT_PID)
/// is gone, even by SIGKILL.

/// mcpconn asks the reaper to end the server and everything it started, at once (the escalation after SIGTERM).
/// Sent to the reaper alone (not its group), so the server never sees it.
enum { MCPCONN_REAPER_END_SIGNAL = SIGUSR1 };

/// The reaper's exit status when it could not run PATH (after a line on stderr saying why), like a shell's.
enum { MCPCONN_REAPER_EXEC_FAILED = 127 };

/// The reaper's exit status for a bad command line (mcpconn's own bug).
enum { MCPCONN_REAPER_USAGE = 64 };

#endif
