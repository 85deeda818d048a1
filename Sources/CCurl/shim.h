#ifndef MCPCONN_CCURL_SHIM_H
#define MCPCONN_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call:
   these typed wrappers fix the argument type per option family. */

static inline CURLcode mcpconn_curl_setopt_long(CURL *h, CURLoption o, long v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode mcpconn_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode mcpconn_curl_setopt_string(CURL *h, CURLoption o, const char *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode mcpconn_curl_setopt_pointer(CURL *h, CURLoption o, void *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode mcpconn_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) {
    return curl_easy_setopt(h, o, v);
}

typedef size_t (*mcpconn_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode mcpconn_curl_setopt_write_function(CURL *h, mcpconn_curl_data_callback f) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode mcpconn_curl_setopt_header_function(CURL *h, mcpconn_curl_data_callback f) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f);
}
typedef int (*mcpconn_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                               curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode mcpconn_curl_setopt_xferinfo_function(CURL *h, mcpconn_curl_xferinfo_callback f) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f);
}
typedef int (*mcpconn_curl_debug_callback)(CURL *h, curl_infotype type, char *data, size_t size, void *userdata);
static inline CURLcode mcpconn_curl_setopt_debug_function(CURL *h, mcpconn_curl_debug_callback f) {
    return curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, f);
}

typedef int (*mcpconn_curl_sockopt_callback)(void *userdata, curl_socket_t fd, curlsocktype purpose);
static inline CURLcode mcpconn_curl_setopt_sockopt_function(CURL *h, mcpconn_curl_sockopt_callback f) {
    return curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, f);
}

static inline CURLcode mcpconn_curl_getinfo_long(CURL *h, CURLINFO i, long *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode mcpconn_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode mcpconn_curl_getinfo_string(CURL *h, CURLINFO i, char **v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode mcpconn_curl_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v) {
    return curl_easy_getinfo(h, i, v);
}
static inline CURLcode mcpconn_curl_getinfo_pointer(CURL *h, CURLINFO i, void **v) {
    return curl_easy_getinfo(h, i, v);
}

static inline CURLMcode mcpconn_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
    return curl_multi_setopt(m, o, v);
}
static inline CURLMcode mcpconn_curl_multi_setopt_pointer(CURLM *m, CURLMoption o, void *v) {
    return curl_multi_setopt(m, o, v);
}

#endif
