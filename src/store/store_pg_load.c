/*
 * store_pg_load.c - PostgreSQL rows to tenant records and back: the
 * whole-store load (one consistent read), a partial load for a writer, and
 * the batched insert (records as one JSON array through jansson, expanded
 * by json_populate_recordset, so 100,000 tenants take a few statements).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/str.h"
#include "tenantrelay/tenant_write.h"
#include "tenantrelay/timefmt.h"
#include "tenantrelay/vault.h"
#include "store_int.h"

#define COLS "t.id, t.enabled, t.host, t.port, t.tls, t.username, t.password, t.sender, t.ca_file," \
    " t.tls_verify, t.rewrite_sender, t.rewrite_from, t.max_connections, t.rate_limit," \
    " t.bind_address, t.insecure_plaintext, extract(epoch FROM t.created)::bigint," \
    " extract(epoch FROM t.updated)::bigint, coalesce(extract(epoch FROM t.verified)::bigint, 0)," \
    " t.auth, t.oauth_provider, t.oauth_directory, t.oauth_token_url, t.oauth_client_id," \
    " t.oauth_client_secret, t.oauth_client_cert_file, t.oauth_client_key, t.oauth_service_account," \
    " t.oauth_scope, t.oauth_assertion_alg"
#define COL_AUTH 19
#define BATCH 2000

static char *opt(const PGresult *r, int i, int col)
{
    return PQgetisnull(r, i, col) ? NULL : mystrdup(PQgetvalue(r, i, col));
}

static bool yes(const PGresult *r, int i, int col)
{
    return strcmp(PQgetvalue(r, i, col), "t") == 0;
}

static void push_name(char ***v, size_t *n, const char *s)
{
    *v = myrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = mystrdup(s);
    (*v)[*n] = NULL;
}

/* The auth column and the oauth_* columns of row i into t->route (checked
 * with the rest of the route by row_to_tenant()). */
static int row_to_oauth(const PGresult *r, int i, struct tenant *t, struct conf_error *err)
{
    struct route_oauth *o = &t->route.oauth;
    int auth = str_index(route_auth_names, PQgetvalue(r, i, COL_AUTH)), provider;

    if (auth < 0) {
        tenant_errorf(err, "tr_tenants: tenant '%s': auth \"%.40s\" is not password or xoauth2", t->id,
                      PQgetvalue(r, i, COL_AUTH));
        return -1;
    }
    t->route.auth = (enum route_auth)auth;
    if (t->route.auth != ROUTE_AUTH_XOAUTH2)
        return 0;
    provider = PQgetisnull(r, i, COL_AUTH + 1) ? -1
             : str_index(route_oauth_provider_names, PQgetvalue(r, i, COL_AUTH + 1));
    if (provider < 0) {
        tenant_errorf(err, "tr_tenants: tenant '%s': auth xoauth2 needs oauth_provider (microsoft, "
                      "google or generic)", t->id);
        return -1;
    }
    o->provider = (enum route_oauth_provider)provider;
    o->directory = opt(r, i, COL_AUTH + 2);
    o->token_url = opt(r, i, COL_AUTH + 3);
    o->client_id = opt(r, i, COL_AUTH + 4);
    o->client_secret = opt(r, i, COL_AUTH + 5);
    o->client_cert_file = opt(r, i, COL_AUTH + 6);
    o->client_key = opt(r, i, COL_AUTH + 7);
    o->service_account = opt(r, i, COL_AUTH + 8);
    o->scope = opt(r, i, COL_AUTH + 9);
    o->assertion_alg = opt(r, i, COL_AUTH + 10);
    return 0;
}

/* Row i of r into t; what the file loader checks per record, checked here
 * too, so a row edited by hand cannot route mail somewhere odd. */
static int row_to_tenant(const PGresult *r, int i, struct tenant *t, struct conf_error *err)
{
    struct route_problem problem;
    int tls_mode;

    memset(t, 0, sizeof(*t));
    route_init(&t->route);
    t->id = mystrdup(PQgetvalue(r, i, 0));
    t->enabled = yes(r, i, 1);
    t->route.host = mystrdup(PQgetvalue(r, i, 2));
    t->route.port = atoi(PQgetvalue(r, i, 3));
    tls_mode = str_index(route_tls_names, PQgetvalue(r, i, 4));
    /* The schema's CHECK admits only the three names; starttls otherwise, as before. */
    t->route.tls = tls_mode < 0 ? ROUTE_TLS_STARTTLS : (enum route_tls)tls_mode;
    t->route.username = opt(r, i, 5);
    t->route.password = opt(r, i, 6);
    t->route.sender = mystrdup(PQgetvalue(r, i, 7));
    t->route.ca_file = opt(r, i, 8);
    t->route.tls_verify = yes(r, i, 9);
    t->route.rewrite_sender = yes(r, i, 10);
    t->route.rewrite_from = yes(r, i, 11);
    t->route.max_connections = atoi(PQgetvalue(r, i, 12));
    t->route.rate_limit = atoi(PQgetvalue(r, i, 13));
    t->route.bind_address = opt(r, i, 14);
    t->route.insecure_plaintext = yes(r, i, 15);
    t->created = (time_t)strtoll(PQgetvalue(r, i, 16), NULL, 10);
    t->updated = (time_t)strtoll(PQgetvalue(r, i, 17), NULL, 10);
    t->verified = (time_t)strtoll(PQgetvalue(r, i, 18), NULL, 10);
    t->domains = mycalloc(1, sizeof(char *));
    t->addresses = mycalloc(1, sizeof(char *));
    if (!tenant_id_is_valid(t->id)) {
        tenant_errorf(err, "tr_tenants: tenant id '%.80s' is not valid", t->id);
        return -1;
    }
    if (row_to_oauth(r, i, t, err) < 0)
        return -1;
    /* The one route validator (route_check()), as the file readers and
     * tenantrelayctl use it. */
    if (route_check(&t->route, true, &problem) < 0) {
        tenant_errorf(err, "tr_tenants: tenant '%s': %s", t->id, problem.msg);
        return -1;
    }
    return 0;
}

/* The records recs[0..n) that were filled (id set) and the array itself. */
static void records_free(struct tenant *recs, size_t n)
{
    for (size_t i = 0; recs && i < n; i++)
        if (recs[i].id)
            tenant_free_fields(&recs[i]);
    myfree(recs);
}

/* Rows of the tenants matching cond (over alias t) and their claims, read
 * in the caller's transaction, as one snapshot. */
static struct tenant_store *load_where(PGconn *c, const char *cond, int nparams,
                                       const char *const *params, struct conf_error *err)
{
    char sql[1024];
    PGresult *r = NULL, *cl = NULL;
    struct tenant *recs = NULL;
    struct tenant_store *s = NULL;
    size_t n = 0, *nd = NULL, *na = NULL;
    int j = 0;

    snprintf(sql, sizeof(sql), "SELECT " COLS " FROM tr_tenants t WHERE %s ORDER BY t.id COLLATE \"C\"",
             cond);
    r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        store_pg_error(err, "PostgreSQL tenant store: tr_tenants", c, r);
        goto out;
    }
    snprintf(sql, sizeof(sql), "SELECT c.tenant_id, c.kind, c.name FROM tr_claims c JOIN tr_tenants t"
             " ON t.id = c.tenant_id WHERE %s ORDER BY c.tenant_id COLLATE \"C\", c.kind, c.ord", cond);
    cl = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(cl) != PGRES_TUPLES_OK) {
        store_pg_error(err, "PostgreSQL tenant store: tr_claims", c, cl);
        goto out;
    }
    n = (size_t)PQntuples(r);
    recs = mycalloc(n + 1, sizeof(*recs));
    nd = mycalloc(n + 1, sizeof(*nd));
    na = mycalloc(n + 1, sizeof(*na));
    for (size_t i = 0; i < n; i++) {
        if (row_to_tenant(r, (int)i, &recs[i], err) < 0)
            goto out;
    }
    /* Both lists are in the same id order: one merge walk. */
    for (size_t i = 0; i < n; i++) {
        for (; j < PQntuples(cl) && strcmp(PQgetvalue(cl, j, 0), recs[i].id) <= 0; j++) {
            if (strcmp(PQgetvalue(cl, j, 0), recs[i].id) != 0)
                continue;
            if (strcmp(PQgetvalue(cl, j, 1), "domain") == 0)
                push_name(&recs[i].domains, &nd[i], PQgetvalue(cl, j, 2));
            else
                push_name(&recs[i].addresses, &na[i], PQgetvalue(cl, j, 2));
        }
    }
    s = tenant_store_from_records(recs, n, "PostgreSQL tenant store", err);
out:
    records_free(recs, n);
    myfree(nd);
    myfree(na);
    PQclear(r);
    PQclear(cl);
    return s;
}

struct tenant_store *store_pg_load_where(PGconn *c, const char *cond, int nparams,
                                         const char *const *params, struct conf_error *err)
{
    return load_where(c, cond, nparams, params, err);
}

struct tenant_store *store_pg_load_all(PGconn *c, uint64_t *version, struct conf_error *err)
{
    struct tenant_store *s = NULL;
    int64_t v;

    /* One snapshot of the database: the version and the rows agree. */
    if (store_pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) < 0)
        return NULL;
    if ((v = store_pg_version(c, err)) >= 0)
        s = load_where(c, "true", 0, NULL, err);
    if (s && store_pg_exec(c, "COMMIT", err) < 0) {
        tenant_store_free(s);
        s = NULL;
    }
    if (s == NULL)
        store_pg_exec(c, "ROLLBACK", NULL);
    else if (version)
        *version = (uint64_t)v;
    return s;
}

struct tenant_store *store_pg_load(const char *uri, uint64_t *version, struct conf_error *err)
{
    PGconn *c = store_pg_connect(uri, 10, err);
    struct tenant_store *s;

    if (c == NULL)
        return NULL;
    s = store_pg_load_all(c, version, err);
    PQfinish(c);
    return s;
}

static json_t *opt_json(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* auth and the oauth_* columns of a row (all NULL for a password route:
 * json_populate_recordset gives absent keys NULL, not the column default,
 * so auth is always written). */
static void put_oauth_json(json_t *row, const struct route *r)
{
    const struct route_oauth *o = &r->oauth;
    bool on = r->auth == ROUTE_AUTH_XOAUTH2;

    json_object_set_new(row, "auth", json_string(route_auth_names[r->auth]));
    json_object_set_new(row, "oauth_provider", on ? json_string(route_oauth_provider_names[o->provider])
                                                  : json_null());
    json_object_set_new(row, "oauth_directory", opt_json(on ? o->directory : NULL));
    json_object_set_new(row, "oauth_token_url", opt_json(on ? o->token_url : NULL));
    json_object_set_new(row, "oauth_client_id", opt_json(on ? o->client_id : NULL));
    json_object_set_new(row, "oauth_client_secret", opt_json(on ? o->client_secret : NULL));
    json_object_set_new(row, "oauth_client_cert_file", opt_json(on ? o->client_cert_file : NULL));
    json_object_set_new(row, "oauth_client_key", opt_json(on ? o->client_key : NULL));
    json_object_set_new(row, "oauth_service_account", opt_json(on ? o->service_account : NULL));
    json_object_set_new(row, "oauth_scope", opt_json(on ? o->scope : NULL));
    json_object_set_new(row, "oauth_assertion_alg", opt_json(on ? o->assertion_alg : NULL));
}

static int insert_json(PGconn *c, const char *table, json_t *rows, struct conf_error *err)
{
    char sql[256], *text = json_dumps(rows, JSON_COMPACT);
    const char *params[1] = { text };
    PGresult *r;
    int rc = 0;

    snprintf(sql, sizeof(sql), "INSERT INTO %s SELECT * FROM json_populate_recordset(NULL::%s, $1::json)",
             table, table);
    r = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        store_pg_error(err, table, c, r);
        rc = store_pg_is_race(r) ? -2 : -1;
    }
    PQclear(r);
    free(text);
    return rc;
}

int store_pg_put_records(PGconn *c, const struct tenant *const *recs, size_t n, uint64_t version,
                         struct conf_error *err)
{
    /* Only sealed tokens leave this host: a plaintext password (a file
     * store edited by hand) is refused here, before any byte is sent, not
     * by the table's CHECK (whose error detail, with the row, would reach
     * the server's log). */
    for (size_t i = 0; i < n; i++) {
        const char *pw = recs[i]->route.password;

        char msg[512];

        if (pw && !vault_token_looks_sealed(pw)) {
            tenant_errorf(err, "tenant %s: its password is not a sealed token (plaintext?): nothing "
                          "sent to the database; seal it first (tenant set %s --password-stdin)",
                          recs[i]->id, recs[i]->id);
            return -1;
        }
        /* The OAuth2 secrets likewise, and the rest of the oauth group's
         * rules: the one validator, so the database never holds a record
         * the file store would refuse. */
        if (route_oauth_validate(&recs[i]->route, msg, sizeof(msg)) < 0) {
            tenant_errorf(err, "tenant %s: %s: nothing sent to the database", recs[i]->id, msg);
            return -1;
        }
    }
    for (size_t first = 0; first < n; first += BATCH) {
        json_t *rows = json_array(), *claims = json_array();
        int rc;

        for (size_t i = first; i < n && i < first + BATCH; i++) {
            const struct tenant *t = recs[i];
            const struct route *r = &t->route;
            json_t *row = json_pack("{s:s, s:b, s:s, s:i, s:s, s:o, s:o, s:s, s:o, s:b, s:b, s:b, s:i,"
                                    " s:i, s:o, s:b, s:o, s:o, s:o, s:I}",
                "id", t->id, "enabled", t->enabled, "host", r->host, "port", r->port,
                "tls", route_tls_names[r->tls], "username", opt_json(r->username),
                "password", opt_json(r->password), "sender", r->sender, "ca_file", opt_json(r->ca_file),
                "tls_verify", r->tls_verify, "rewrite_sender", r->rewrite_sender,
                "rewrite_from", r->rewrite_from, "max_connections", r->max_connections,
                "rate_limit", r->rate_limit, "bind_address", opt_json(r->bind_address),
                "insecure_plaintext", r->insecure_plaintext,
                "created", timefmt_json(t->created ? t->created : time(NULL)),
                "updated", timefmt_json(t->updated ? t->updated : time(NULL)),
                "verified", timefmt_json(t->verified), "version", (json_int_t)version);

            put_oauth_json(row, r);
            json_array_append_new(rows, row);
            for (int k = 0; t->domains && t->domains[k]; k++)
                json_array_append_new(claims, json_pack("{s:s, s:s, s:s, s:i}", "kind", "domain",
                                                        "name", t->domains[k], "tenant_id", t->id, "ord", k));
            for (int k = 0; t->addresses && t->addresses[k]; k++)
                json_array_append_new(claims, json_pack("{s:s, s:s, s:s, s:i}", "kind", "address",
                                                        "name", t->addresses[k], "tenant_id", t->id, "ord", k));
        }
        rc = insert_json(c, "tr_tenants", rows, err);
        if (rc == 0 && json_array_size(claims))
            rc = insert_json(c, "tr_claims", claims, err);
        json_decref(rows);
        json_decref(claims);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Most changes touch one tenant: rather than reading 100,000 rows again,
 * read the rows the change log names since `from` and merge them over the
 * old snapshot.  A change of every tenant ("*": import, key rotation), a
 * long gap, or a log that does not account for every version: a full load. */
#define INCREMENTAL_MAX 1000

struct tenant_store *store_pg_load_since(PGconn *c, const struct tenant_store *old, uint64_t from,
                                         uint64_t *version, struct conf_error *err)
{
    char fromv[32];
    const char *params[1] = { fromv };
    PGresult *r = NULL;
    json_t *ids = NULL;
    char *idtext = NULL, **sorted = NULL;
    struct tenant_store *fresh = NULL, *s = NULL;
    struct tenant *recs = NULL;
    size_t nids = 0, k = 0, nold = tenant_store_count(old);
    int64_t v;
    bool full = old == NULL;

    if (store_pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) < 0)
        return NULL;
    if ((v = store_pg_version(c, err)) < 0)
        goto out;
    snprintf(fromv, sizeof(fromv), "%llu", (unsigned long long)from);
    if (!full) {
        r = PQexecParams(c, "SELECT tenant FROM tr_changes WHERE version > $1 ORDER BY version", 1, NULL,
                         params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            store_pg_error(err, "PostgreSQL tenant store: tr_changes", c, r);
            goto out;
        }
        full = (uint64_t)v < from || (uint64_t)PQntuples(r) != (uint64_t)v - from
               || PQntuples(r) > INCREMENTAL_MAX;
        ids = json_array();
        sorted = mycalloc((size_t)PQntuples(r) + 1, sizeof(char *));
        for (int i = 0; !full && i < PQntuples(r); i++) {
            const char *id = PQgetvalue(r, i, 0);

            if (!tenant_id_is_valid(id)) {
                full = true;    /* "*": every tenant changed */
                break;
            }
            json_array_append_new(ids, json_string(id));
            sorted[nids++] = (char *)id;
        }
    }
    if (full) {
        s = load_where(c, "true", 0, NULL, err);
        goto out;
    }
    idtext = json_dumps(ids, JSON_COMPACT);
    params[0] = idtext;
    if ((fresh = load_where(c, "t.id IN (SELECT json_array_elements_text($1::json))", 1, params, err)) == NULL)
        goto out;
    qsort(sorted, nids, sizeof(char *), cmp_str);
    recs = mycalloc(nold + tenant_store_count(fresh) + 1, sizeof(*recs));
    for (size_t i = 0; i < nold; i++) {
        const struct tenant *t = tenant_store_at(old, i);
        const char *key = t->id;

        if (nids && bsearch(&key, sorted, nids, sizeof(char *), cmp_str))
            continue;           /* changed or removed: the fresh row (if any) replaces it */
        tenant_copy(&recs[k++], t);
    }
    for (size_t i = 0; i < tenant_store_count(fresh); i++)
        tenant_copy(&recs[k++], tenant_store_at(fresh, i));
    s = tenant_store_from_records(recs, k, "PostgreSQL tenant store", err);
out:
    if (s && store_pg_exec(c, "COMMIT", err) < 0) {
        tenant_store_free(s);
        s = NULL;
    }
    if (s == NULL)
        store_pg_exec(c, "ROLLBACK", NULL);
    else if (version)
        *version = (uint64_t)v;
    records_free(recs, k);
    myfree(sorted);
    free(idtext);
    json_decref(ids);
    tenant_store_free(fresh);
    PQclear(r);
    return s;
}
