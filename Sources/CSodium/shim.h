#ifndef MCPCONN_CSODIUM_SHIM_H
#define MCPCONN_CSODIUM_SHIM_H
#include <sodium.h>
#endif
