// mcpconn-reaper PARENT_PID -- PATH [ARGS...]
//
// Runs a local MCP server (PATH, with argv[0] = PATH) so that nothing it starts outlives it or mcpconn, even
// when mcpconn is killed with SIGKILL (issue 29, item 6). mcpconn starts this program as the leader of the
// server's process group, in place of the server (see reaper_protocol.h and StdioTransport.swift):
// - it is a child subreaper, so a descendant whose parent exits (a `setsid` daemon, a double fork) becomes its
//   child instead of init's, and can still be found;
// - it dies with mcpconn: PR_SET_PDEATHSIG, confirmed by getppid(), since that signal also comes when the
//   thread of mcpconn that started it exits; and getppid() is checked every half second besides;
// - the server dies with it (PR_SET_PDEATHSIG(SIGKILL) in the server, set between fork and exec);
// - when the server exits, when mcpconn sends MCPCONN_REAPER_END_SIGNAL, or when mcpconn is gone, it sends
//   SIGKILL to every descendant (the children of each of its threads, recursively, in /proc), until it has
//   none, then exits as the server did (its status, or the same signal), so mcpconn's messages stay the same.
//
// Plain C, without the Swift runtime, so that it costs about a millisecond per server start.

#if !defined(__linux__)
// Elsewhere (not built or tested here: README, "Platforms") there is no subreaper or parent-death signal: the
// server simply runs in the reaper's place.
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 4) return 64;
    execv(argv[3], argv + 3);
    return 127;
}
#else

#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reaper_protocol.h"

/// Comes when mcpconn's thread that started the reaper, or mcpconn itself, is gone.
#define PARENT_DEATH_SIGNAL SIGUSR2
/// How often getppid() is checked anyway, and how often the end re-sweeps while descendants remain.
static const long parent_check_ns = 500L * 1000 * 1000;
static const long sweep_ns = 50L * 1000 * 1000;

static int fail(int status, const char *what, int error) {
    fprintf(stderr, "mcpconn-reaper: %s: %s\n", what, strerror(error));
    return status;
}

static pid_t parse_pid(const char *text) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value <= 0 || value > INT_MAX) return -1;
    return (pid_t)value;
}

/// SIGKILL to every descendant of `pid` (not `pid` itself): the children of each of its threads, then theirs.
/// Each is killed before its own children are read, so it can start no more. Deeper than `depth` allows, the
/// next sweep finds them (their killed ancestors' children become the reaper's).
static void kill_descendants(pid_t pid, int depth) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *tasks = opendir(path);
    if (tasks == NULL) return;
    struct dirent *task;
    while ((task = readdir(tasks)) != NULL) {
        if (task->d_name[0] == '.') continue;
        char children_path[96];
        snprintf(children_path, sizeof children_path, "/proc/%d/task/%.16s/children", (int)pid, task->d_name);
        FILE *children = fopen(children_path, "re");
        if (children == NULL) continue;
        long child;
        while (fscanf(children, "%ld", &child) == 1) {
            if (child <= 0 || child > INT_MAX) continue;
            kill((pid_t)child, SIGKILL);
            if (depth > 0) kill_descendants((pid_t)child, depth - 1);
        }
        fclose(children);
    }
    closedir(tasks);
}

/// Reaps every child that has exited; records the server's status. False once there is no child left.
static int reap(pid_t server, int *status, int *server_ended) {
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid > 0) {
            if (pid == server) {
                *status = st;
                *server_ended = 1;
            }
            continue;
        }
        if (pid < 0 && errno == EINTR) continue;
        return !(pid < 0 && errno == ECHILD);
    }
}

/// Exits as the server did: its status, or its signal (without a core dump: a server's memory may hold secrets).
static int exit_like(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (!WIFSIGNALED(status)) return 1;
    int sig = WTERMSIG(status);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    sigprocmask(SIG_UNBLOCK, &only, NULL);
    raise(sig);
    return 128 + sig;
}

/// Runs PATH in the child: default signal dispositions and mask (as mcpconn's own spawn gives), death with the
/// reaper. On failure, its errno goes to `report` (close-on-exec: nothing comes when the exec works).
static void run_server(char **argv, pid_t reaper, const sigset_t *mask, int report) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != reaper) _exit(MCPCONN_REAPER_EXEC_FAILED);  // the reaper died before that took effect
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    execv(argv[0], argv);
    int error = errno;
    while (write(report, &error, sizeof error) < 0 && errno == EINTR) {}
    _exit(MCPCONN_REAPER_EXEC_FAILED);
}

int main(int argc, char **argv) {
    pid_t parent = argc >= 4 ? parse_pid(argv[1]) : -1;
    if (parent < 0 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: mcpconn-reaper PARENT_PID -- PATH [ARGS...] (started by mcpconn)\n");
        return MCPCONN_REAPER_USAGE;
    }
    sigset_t watched, original;
    sigemptyset(&watched);
    sigaddset(&watched, SIGCHLD);
    sigaddset(&watched, MCPCONN_REAPER_END_SIGNAL);
    sigaddset(&watched, PARENT_DEATH_SIGNAL);
    sigprocmask(SIG_BLOCK, &watched, &original);
    // SIGTERM (mcpconn's, to the whole group), SIGINT and SIGHUP are for the server: the reaper stays to end
    // what the server leaves behind.
    int ignored[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) signal(ignored[i], SIG_IGN);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return fail(MCPCONN_REAPER_EXEC_FAILED, "subreaper", errno);
    if (prctl(PR_SET_PDEATHSIG, PARENT_DEATH_SIGNAL, 0, 0, 0) != 0) {
        return fail(MCPCONN_REAPER_EXEC_FAILED, "parent death signal", errno);
    }
    if (getppid() != parent) return MCPCONN_REAPER_EXEC_FAILED;  // mcpconn is gone already: start nothing

    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return fail(MCPCONN_REAPER_EXEC_FAILED, "pipe", errno);
    pid_t reaper = getpid();
    pid_t server = fork();
    if (server < 0) return fail(MCPCONN_REAPER_EXEC_FAILED, "fork", errno);
    if (server == 0) run_server(argv + 3, reaper, &original, report[1]);
    close(report[1]);
    int exec_error = 0;
    ssize_t got;
    do got = read(report[0], &exec_error, sizeof exec_error);
    while (got < 0 && errno == EINTR);
    close(report[0]);
    int status = 0, server_ended = 0;
    if (got == (ssize_t)sizeof exec_error) {
        fprintf(stderr, "mcpconn-reaper: cannot run '%s': %s\n", argv[3], strerror(exec_error));
        while (waitpid(server, NULL, 0) < 0 && errno == EINTR) {}
        return MCPCONN_REAPER_EXEC_FAILED;
    }
    // The reaper's copies of the server's pipes would keep them open: their end must be the server's.
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        for (int fd = 0; fd <= 2; fd++) dup2(null, fd);
        if (null > 2) close(null);
    }

    for (;;) {
        struct timespec tick = {0, parent_check_ns};
        int sig = sigtimedwait(&watched, NULL, &tick);
        if (sig == MCPCONN_REAPER_END_SIGNAL) break;
        reap(server, &status, &server_ended);  // adopted orphans too: no zombie piles up while the server runs
        if (server_ended || getppid() != parent) break;
    }
    // The end: SIGKILL to every descendant until none is left (orphans of the killed ones come to the reaper).
    sigset_t child_exit;
    sigemptyset(&child_exit);
    sigaddset(&child_exit, SIGCHLD);
    for (;;) {
        kill_descendants(reaper, 256);
        if (!reap(server, &status, &server_ended)) break;
        struct timespec tick = {0, sweep_ns};
        sigtimedwait(&child_exit, NULL, &tick);
    }
    return server_ended ? exit_like(status) : 1;
}

#endif
