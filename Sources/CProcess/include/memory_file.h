#ifndef MCPCONN_MEMORY_FILE_H
#define MCPCONN_MEMORY_FILE_H

/// An anonymous file in memory (Linux memfd_create, close-on-exec), for data a child reads as its stdin without
/// anything written to disk; needs _GNU_SOURCE, out of Swift's reach. Returns the descriptor, or -1 with errno set
/// (also where memfd_create does not exist).
int mcpconn_memory_file(const char *name);

#endif
