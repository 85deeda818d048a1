#ifndef MCPCONN_CLIBPQ_SHIM_H
#define MCPCONN_CLIBPQ_SHIM_H
/* Debian puts libpq-fe.h under postgresql/; Homebrew's keg and most others put it at the top. */
#if __has_include(<postgresql/libpq-fe.h>)
#include <postgresql/libpq-fe.h>
#else
#include <libpq-fe.h>
#endif

/* libpq is loaded with dlopen only when a postgres URL is used, as libcurl is (see CCurl/shim.h): linking it
   would make every command, SQLite users' included, load it and its dependencies at start-up. These wrappers
   take the entry point found by dlsym as their first argument. */

#define MCPCONN_PQ_FN(type, f) ((type)(f))

static inline PGconn *mcpconn_PQconnectdbParams(void *f, const char *const *keywords, const char *const *values,
                                                int expand_dbname) {
    return MCPCONN_PQ_FN(PGconn * (*)(const char *const *, const char *const *, int), f)(keywords, values,
                                                                                         expand_dbname);
}
static inline PQconninfoOption *mcpconn_PQconninfoParse(void *f, const char *conninfo, char **errmsg) {
    return MCPCONN_PQ_FN(PQconninfoOption * (*)(const char *, char **), f)(conninfo, errmsg);
}
static inline void mcpconn_PQconninfoFree(void *f, PQconninfoOption *o) {
    MCPCONN_PQ_FN(void (*)(PQconninfoOption *), f)(o);
}
static inline void mcpconn_PQfreemem(void *f, void *p) { MCPCONN_PQ_FN(void (*)(void *), f)(p); }
static inline void mcpconn_PQfinish(void *f, PGconn *c) { MCPCONN_PQ_FN(void (*)(PGconn *), f)(c); }
static inline ConnStatusType mcpconn_PQstatus(void *f, const PGconn *c) {
    return MCPCONN_PQ_FN(ConnStatusType (*)(const PGconn *), f)(c);
}
static inline const char *mcpconn_PQerrorMessage(void *f, const PGconn *c) {
    return MCPCONN_PQ_FN(char *(*)(const PGconn *), f)(c);
}

static inline void mcpconn_pq_discard_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}
/* libpq's default notice processor prints to stderr; mcpconn's stderr carries only its own one-line errors. */
static inline void mcpconn_PQdiscardNotices(void *f, PGconn *c) {
    MCPCONN_PQ_FN(PQnoticeProcessor (*)(PGconn *, PQnoticeProcessor, void *), f)(c, mcpconn_pq_discard_notice,
                                                                                  NULL);
}

/* Connection facts as libpq resolved them (defaults and environment applied), also after a failed attempt. */
static inline const char *mcpconn_PQhost(void *f, const PGconn *c) {
    return MCPCONN_PQ_FN(char *(*)(const PGconn *), f)(c);
}
static inline const char *mcpconn_PQport(void *f, const PGconn *c) {
    return MCPCONN_PQ_FN(char *(*)(const PGconn *), f)(c);
}
static inline const char *mcpconn_PQparameterStatus(void *f, const PGconn *c, const char *name) {
    return MCPCONN_PQ_FN(const char *(*)(const PGconn *, const char *), f)(c, name);
}
static inline const char *mcpconn_PQdb(void *f, const PGconn *c) {
    return MCPCONN_PQ_FN(char *(*)(const PGconn *), f)(c);
}
static inline const char *mcpconn_PQuser(void *f, const PGconn *c) {
    return MCPCONN_PQ_FN(char *(*)(const PGconn *), f)(c);
}

static inline PGresult *mcpconn_PQexec(void *f, PGconn *c, const char *sql) {
    return MCPCONN_PQ_FN(PGresult * (*)(PGconn *, const char *), f)(c, sql);
}
/* Text parameters and text results only: no types, lengths or formats to pass. */
static inline PGresult *mcpconn_PQexecParams(void *f, PGconn *c, const char *sql, int n,
                                                 const char *const *values) {
    return MCPCONN_PQ_FN(PGresult * (*)(PGconn *, const char *, int, const Oid *, const char *const *,
                                        const int *, const int *, int),
                         f)(c, sql, n, NULL, values, NULL, NULL, 0);
}
static inline ExecStatusType mcpconn_PQresultStatus(void *f, const PGresult *r) {
    return MCPCONN_PQ_FN(ExecStatusType (*)(const PGresult *), f)(r);
}
static inline const char *mcpconn_PQresultErrorField(void *f, const PGresult *r, int code) {
    return MCPCONN_PQ_FN(char *(*)(const PGresult *, int), f)(r, code);
}
static inline void mcpconn_PQclear(void *f, PGresult *r) { MCPCONN_PQ_FN(void (*)(PGresult *), f)(r); }
static inline int mcpconn_PQntuples(void *f, const PGresult *r) {
    return MCPCONN_PQ_FN(int (*)(const PGresult *), f)(r);
}
static inline int mcpconn_PQnfields(void *f, const PGresult *r) {
    return MCPCONN_PQ_FN(int (*)(const PGresult *), f)(r);
}
static inline int mcpconn_PQfnumber(void *f, const PGresult *r, const char *name) {
    return MCPCONN_PQ_FN(int (*)(const PGresult *, const char *), f)(r, name);
}
static inline int mcpconn_PQgetisnull(void *f, const PGresult *r, int row, int column) {
    return MCPCONN_PQ_FN(int (*)(const PGresult *, int, int), f)(r, row, column);
}
static inline int mcpconn_PQgetlength(void *f, const PGresult *r, int row, int column) {
    return MCPCONN_PQ_FN(int (*)(const PGresult *, int, int), f)(r, row, column);
}
static inline const char *mcpconn_PQgetvalue(void *f, const PGresult *r, int row, int column) {
    return MCPCONN_PQ_FN(char *(*)(const PGresult *, int, int), f)(r, row, column);
}
static inline const char *mcpconn_PQcmdTuples(void *f, PGresult *r) {
    return MCPCONN_PQ_FN(char *(*)(PGresult *), f)(r);
}

#endif
