#ifndef MCPCONN_CCURL_SHIM_H
#define MCPCONN_CCURL_SHIM_H
#include <curl/curl.h>

/* libcurl is loaded with dlopen only by the verbs that talk to servers: linking it would make every command
   load its ~35 dependent libraries at start-up (~11 ms, most of `mcpconn list`'s time). These wrappers take the
   entry point found by dlsym as their first argument. They also give curl's variadic setopt/getinfo a typed
   signature per option family, since Swift cannot call variadic C functions. */

#define MCPCONN_FN(type, f) ((type)(f))

static inline CURLcode mcpconn_global_init(void *f, long flags) {
    return MCPCONN_FN(CURLcode (*)(long), f)(flags);
}
static inline CURL *mcpconn_easy_init(void *f) { return MCPCONN_FN(CURL * (*)(void), f)(); }
static inline void mcpconn_easy_cleanup(void *f, CURL *h) { MCPCONN_FN(void (*)(CURL *), f)(h); }
static inline void mcpconn_easy_reset(void *f, CURL *h) { MCPCONN_FN(void (*)(CURL *), f)(h); }
static inline const char *mcpconn_easy_strerror(void *f, CURLcode c) {
    return MCPCONN_FN(const char *(*)(CURLcode), f)(c);
}
static inline struct curl_slist *mcpconn_slist_append(void *f, struct curl_slist *l, const char *s) {
    return MCPCONN_FN(struct curl_slist * (*)(struct curl_slist *, const char *), f)(l, s);
}
static inline void mcpconn_slist_free_all(void *f, struct curl_slist *l) {
    MCPCONN_FN(void (*)(struct curl_slist *), f)(l);
}
static inline CURLM *mcpconn_multi_init(void *f) { return MCPCONN_FN(CURLM * (*)(void), f)(); }
static inline CURLMcode mcpconn_multi_add_handle(void *f, CURLM *m, CURL *h) {
    return MCPCONN_FN(CURLMcode (*)(CURLM *, CURL *), f)(m, h);
}
static inline CURLMcode mcpconn_multi_remove_handle(void *f, CURLM *m, CURL *h) {
    return MCPCONN_FN(CURLMcode (*)(CURLM *, CURL *), f)(m, h);
}
static inline CURLMcode mcpconn_multi_perform(void *f, CURLM *m, int *running) {
    return MCPCONN_FN(CURLMcode (*)(CURLM *, int *), f)(m, running);
}
static inline CURLMsg *mcpconn_multi_info_read(void *f, CURLM *m, int *left) {
    return MCPCONN_FN(CURLMsg * (*)(CURLM *, int *), f)(m, left);
}
static inline CURLMcode mcpconn_multi_poll(void *f, CURLM *m, int timeout_ms) {
    return MCPCONN_FN(CURLMcode (*)(CURLM *, struct curl_waitfd *, unsigned int, int, int *), f)(
        m, NULL, 0, timeout_ms, NULL);
}
static inline CURLMcode mcpconn_multi_wakeup(void *f, CURLM *m) {
    return MCPCONN_FN(CURLMcode (*)(CURLM *), f)(m);
}

typedef CURLcode (*mcpconn_easy_setopt_t)(CURL *, CURLoption, ...);
typedef CURLMcode (*mcpconn_multi_setopt_t)(CURLM *, CURLMoption, ...);

static inline CURLcode mcpconn_curl_setopt_long(void *f, CURL *h, CURLoption o, long v) {
    return MCPCONN_FN(mcpconn_easy_setopt_t, f)(h, o, v);
}
static inline CURLcode mcpconn_curl_setopt_off(void *f, CURL *h, CURLoption o, curl_off_t v) {
    return MCPCONN_FN(mcpconn_easy_setopt_t, f)(h, o, v);
}
static inline CURLcode mcpconn_curl_setopt_string(void *f, CURL *h, CURLoption o, const char *v) {
    return MCPCONN_FN(mcpconn_easy_setopt_t, f)(h, o, v);
}
static inline CURLcode mcpconn_curl_setopt_pointer(void *f, CURL *h, CURLoption o, void *v) {
    return MCPCONN_FN(mcpconn_easy_setopt_t, f)(h, o, v);
}
static inline CURLcode mcpconn_curl_setopt_slist(void *f, CURL *h, CURLoption o, struct curl_slist *v) {
    return MCPCONN_FN(mcpconn_easy_setopt_t, f)(h, o, v);
}

typedef size_t (*mcpconn_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode mcpconn_curl_setopt_write_function(void *f, CURL *h, mcpconn_curl_data_callback cb) {
    return MCPCONN_FN(mcpconn_easy_setopt_t, f)(h, CURLOPT_WRITEFUNCTION, cb);
}
static inline CURLcode mcpconn_curl_setopt_header_function(void *f, CURL *h, mcpconn_curl_data_callback cb) {
    return MCPCONN_FN(mcpconn_easy_setopt_t, f)(h, CURLOPT_HEADERFUNCTION, cb);
}
typedef int (*mcpconn_curl_sockopt_callback)(void *userdata, curl_socket_t fd, curlsocktype purpose);
static inline CURLcode mcpconn_curl_setopt_sockopt_function(void *f, CURL *h, mcpconn_curl_sockopt_callback cb) {
    return MCPCONN_FN(mcpconn_easy_setopt_t, f)(h, CURLOPT_SOCKOPTFUNCTION, cb);
}

static inline curl_version_info_data *mcpconn_curl_version_info(void *f) {
    return MCPCONN_FN(curl_version_info_data * (*)(CURLversion), f)(CURLVERSION_NOW);
}
typedef CURLcode (*mcpconn_easy_getinfo_t)(CURL *, CURLINFO, ...);
static inline CURLcode mcpconn_curl_getinfo_string(void *f, CURL *h, CURLINFO i, char **out) {
    return MCPCONN_FN(mcpconn_easy_getinfo_t, f)(h, i, out);
}

static inline CURLcode mcpconn_curl_getinfo_long(void *f, CURL *h, CURLINFO i, long *out) {
    return MCPCONN_FN(mcpconn_easy_getinfo_t, f)(h, i, out);
}

static inline CURLcode mcpconn_curl_getinfo_off(void *f, CURL *h, CURLINFO i, curl_off_t *out) {
    return MCPCONN_FN(mcpconn_easy_getinfo_t, f)(h, i, out);
}

/* The server's certificate chain (CURLOPT_CERTINFO), each certificate as "Name:value" strings. */
static inline CURLcode mcpconn_curl_getinfo_certinfo(void *f, CURL *h, struct curl_certinfo **out) {
    return MCPCONN_FN(mcpconn_easy_getinfo_t, f)(h, CURLINFO_CERTINFO, out);
}

/* A PEM held in memory (a client key opened from the store), copied by libcurl: it never touches a file. */
static inline CURLcode mcpconn_curl_setopt_blob(void *f, CURL *h, CURLoption o, const void *data, size_t len) {
    struct curl_blob blob = { (void *)data, len, CURL_BLOB_COPY };
    return MCPCONN_FN(mcpconn_easy_setopt_t, f)(h, o, &blob);
}

static inline CURLMcode mcpconn_curl_multi_setopt_long(void *f, CURLM *m, CURLMoption o, long v) {
    return MCPCONN_FN(mcpconn_multi_setopt_t, f)(m, o, v);
}

#endif
