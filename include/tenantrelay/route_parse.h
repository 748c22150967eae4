/*
 * route_parse.h - routes and the route policy read from libconfig groups
 * (the config's default_route and tenant_route_policy, a tenant record).
 * The only route header that needs libconfig: included by the files that
 * parse (conf, tenant), not by the users of a route.
 *
 * Errors are "FILE:LINE: message" (conf_get.h), the line of the offending
 * setting, else of its group.
 */
#ifndef TENANTRELAY_ROUTE_PARSE_H
#define TENANTRELAY_ROUTE_PARSE_H

#include <libconfig.h>
#include <stdbool.h>

#include "tenantrelay/conf_get.h"
#include "tenantrelay/route.h"
#include "tenantrelay/route_policy.h"

/* Parse the route keys of group into r (other keys are the caller's to
 * check), then check it with route_check(): host and sender are required
 * when require_host is set.  0 or -1. */
int route_parse(const config_setting_t *group, struct route *r, bool require_host,
                struct conf_error *err) __attribute__((warn_unused_result));
/* The auth key and the oauth group of g: parsed into r->auth and r->oauth
 * (the group present exactly when auth = "xoauth2", its keys known, a
 * provider named).  Its rules are route_check()'s.  0 or -1. */
int route_oauth_parse(const config_setting_t *g, struct route *r, struct conf_error *err)
    __attribute__((warn_unused_result));
/* Parse the top-level group tenant_route_policy of root, when present
 * (FILE:LINE errors).  0 or -1. */
int route_policy_parse(const config_setting_t *root, struct route_policy *p, struct conf_error *err)
    __attribute__((warn_unused_result));

#endif
