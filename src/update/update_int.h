/*
 * update_int.h - what the files of src/update share (private).
 */
#ifndef TENANTRELAY_UPDATE_INT_H
#define TENANTRELAY_UPDATE_INT_H

#include "tenantrelay/dbuf.h"

/* A string field over *dst: NULL (not given) keeps it, "" clears it; when
 * it changes, name is appended to changed. */
void tenant_update_set_string(char **dst, const char *val, const char *name, struct dbuf *changed);

#endif
