/*
 * store_pg_write.c - writes to the PostgreSQL tenant store: each change is
 * one transaction that locks the store version row (writers queue there,
 * as they queue on the file store's flock), reads the records it needs,
 * writes them, appends the change log, bumps the version only if it is
 * still the one read (the optimistic check: anything else is a lost race)
 * and notifies every listening node.  `store import` is one transaction.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/tenant_write.h"
#include "store_int.h"

struct store_pg_txn {
    PGconn *c;
    uint64_t version;           /* read at begin */
    struct tenant_store *view;
};

static char *names_json(const char *id, char *const *domains, char *const *addresses)
{
    json_t *a = json_array();
    char *s;

    for (size_t i = 0; domains && domains[i]; i++)
        json_array_append_new(a, json_string(domains[i]));
    for (size_t i = 0; addresses && addresses[i]; i++)
        json_array_append_new(a, json_string(addresses[i]));
    (void)id;
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

struct store_pg_txn *store_pg_txn_begin(const char *uri, const char *id, char *const *domains,
                                        char *const *addresses, struct conf_error *err)
{
    struct store_pg_txn *t = mycalloc(1, sizeof(*t));
    PGresult *r = NULL;
    char *names = NULL;
    int64_t v;

    if ((t->c = store_pg_connect(uri, 10, err)) == NULL)
        goto fail;
    if (store_pg_exec(t->c, "BEGIN", err) < 0 || (v = store_pg_version(t->c, err)) < 0)
        goto fail;
    /* The writers' queue: held until COMMIT or ROLLBACK. */
    r = PQexec(t->c, "SELECT version FROM tr_meta FOR UPDATE");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        store_pg_error(err, "PostgreSQL tenant store: tr_meta", t->c, r);
        goto fail;
    }
    t->version = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    if (id == NULL) {
        t->view = store_pg_load_where(t->c, "true", 0, NULL, err);
    } else {
        const char *params[2];

        names = names_json(id, domains, addresses);
        params[0] = id;
        params[1] = names;
        t->view = store_pg_load_where(t->c, "t.id = $1 OR t.id IN (SELECT tenant_id FROM tr_claims"
                                      " WHERE name IN (SELECT json_array_elements_text($2::json)))",
                                      2, params, err);
    }
    if (t->view == NULL)
        goto fail;
    PQclear(r);
    free(names);
    return t;
fail:
    PQclear(r);
    free(names);
    store_pg_txn_end(t);
    return NULL;
}

const struct tenant_store *store_pg_txn_view(const struct store_pg_txn *t)
{
    return t->view;
}

/* One statement; want (or NULL): the number of rows it must touch, else
 * the store changed under us - a lost race. */
static enum store_result run(PGconn *c, const char *sql, int n, const char *const *params,
                             const char *want, struct conf_error *err)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    enum store_result res = STORE_OK;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        store_pg_error(err, "PostgreSQL tenant store", c, r);
        res = store_pg_is_race(r) ? STORE_RACE : STORE_ERROR;
    } else if (want && strcmp(PQcmdTuples(r), want) != 0) {
        snprintf(err->text, sizeof(err->text), "the tenant store changed meanwhile: nothing saved");
        res = STORE_RACE;
    }
    PQclear(r);
    return res;
}

enum store_result store_pg_txn_commit(struct store_pg_txn *t, const struct tenant *const *repl,
                                      const struct tenant *added, const char *action,
                                      const char *id, const char *fields, struct conf_error *err)
{
    size_t n = tenant_store_count(t->view), k = 0;
    const struct tenant **put = mycalloc(n + 2, sizeof(*put));
    char oldv[32], newv[32];
    const char *p[5];
    enum store_result res;
    int rc;

    snprintf(oldv, sizeof(oldv), "%" PRIu64, t->version);
    snprintf(newv, sizeof(newv), "%" PRIu64, t->version + 1);
    {
        /* Every replaced or removed row in one statement (a key rotation
         * rewrites them all); all of them must still be there. */
        json_t *gone = json_array();
        char *ids, count[32];
        const char *q[1];

        for (size_t i = 0; i < n; i++) {
            const struct tenant *old = tenant_store_at(t->view, i);

            if (repl[i] == old)
                continue;
            json_array_append_new(gone, json_string(old->id));
            if (repl[i])
                put[k++] = repl[i];
        }
        snprintf(count, sizeof(count), "%zu", json_array_size(gone));
        ids = json_dumps(gone, JSON_COMPACT);
        json_decref(gone);
        q[0] = ids;
        res = strcmp(count, "0") == 0 ? STORE_OK
            : run(t->c, "DELETE FROM tr_tenants WHERE id IN (SELECT json_array_elements_text($1::json))",
                  1, q, count, err);
        free(ids);
        if (res != STORE_OK)
            goto out;
    }
    if (added)
        put[k++] = added;
    if ((rc = store_pg_put_records(t->c, put, k, t->version + 1, err)) < 0) {
        res = rc == -2 ? STORE_RACE : STORE_ERROR;
        goto out;
    }
    p[0] = newv;
    p[1] = oldv;
    if ((res = run(t->c, "UPDATE tr_meta SET version = $1 WHERE version = $2", 2, p, "1", err)) != STORE_OK)
        goto out;
    p[0] = newv;
    p[1] = tenant_changelog_user();
    p[2] = action;
    p[3] = id;
    p[4] = fields && *fields ? fields : "-";
    if ((res = run(t->c, "INSERT INTO tr_changes (version, usr, action, tenant, fields)"
                         " VALUES ($1, $2, $3, $4, $5)", 5, p, NULL, err)) != STORE_OK)
        goto out;
    /* Delivered at COMMIT, to every node LISTENing: the hint. */
    if ((res = run(t->c, "SELECT pg_notify('" STORE_PG_CHANNEL "', $1)", 1, p, NULL, err)) != STORE_OK)
        goto out;
    res = run(t->c, "COMMIT", 0, NULL, NULL, err);
out:
    myfree(put);
    return res;
}

void store_pg_txn_end(struct store_pg_txn *t)
{
    if (t == NULL)
        return;
    PQfinish(t->c);             /* an open transaction is rolled back */
    tenant_store_free(t->view);
    myfree(t);
}

int store_pg_import(const char *uri, const char *path, size_t *count, struct conf_error *err)
{
    struct tenant_store *files = tenant_store_load(path, err);
    struct store_pg_txn *t = NULL;
    const struct tenant **recs = NULL;
    char what[64];
    int rc = -1;

    *count = 0;
    if (files == NULL)
        return -1;
    if ((t = store_pg_txn_begin(uri, NULL, NULL, NULL, err)) == NULL)
        goto out;
    if (tenant_store_count(t->view) != 0) {
        snprintf(err->text, sizeof(err->text), "the PostgreSQL tenant store already holds %zu tenants: "
                 "import only fills an empty store (nothing changed)", tenant_store_count(t->view));
        goto out;
    }
    recs = mycalloc(tenant_store_count(files) + 1, sizeof(*recs));
    for (size_t i = 0; i < tenant_store_count(files); i++)
        recs[i] = tenant_store_at(files, i);
    snprintf(what, sizeof(what), "%zu tenants", tenant_store_count(files));
    /* The whole store as "added" records, in one transaction. */
    if (store_pg_put_records(t->c, recs, tenant_store_count(files), t->version + 1, err) < 0)
        goto out;
    {
        const struct tenant *none[1] = { NULL };

        if (store_pg_txn_commit(t, none, NULL, "import", "*", what, err) != STORE_OK)
            goto out;
    }
    *count = tenant_store_count(files);
    rc = 0;
out:
    myfree(recs);
    store_pg_txn_end(t);
    tenant_store_free(files);
    return rc;
}
