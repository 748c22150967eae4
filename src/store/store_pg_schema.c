/*
 * store_pg_schema.c - the PostgreSQL tenant store's connection helpers,
 * its schema and versioned migrations (`tenantrelayctl store init`), and
 * `store status`.
 *
 * Tables (prefix tr_): tr_meta (one row: schema version, store version),
 * tr_tenants (one row per tenant: route fields, the SEALED password token,
 * the store version that last wrote it), tr_claims (domains and addresses;
 * the primary key makes a claim unique across tenants), tr_changes (the
 * change log, one row per store version), tr_nodes (each node's last
 * reconcile: the version it serves and when it saw the database).
 * Schema 2 adds a route's `auth` and its `oauth` group to tr_tenants
 * (oauth_* columns; the three OAuth2 secrets SEALED, like the password).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tenantrelay/mymalloc.h"
#include "tenantrelay/vault.h"
#include "store_int.h"

/* migrations[i] takes the schema from version i to i + 1.  Append only:
 * a released migration never changes. */
static const char *const migrations[] = {
    "CREATE TABLE tr_meta ("
    " one boolean PRIMARY KEY DEFAULT true CHECK (one),"
    " schema_version integer NOT NULL,"
    " version bigint NOT NULL DEFAULT 0 CHECK (version >= 0));"
    "CREATE TABLE tr_tenants ("
    " id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9._-]{0,63}$' AND id <> 'default'),"
    " enabled boolean NOT NULL,"
    " host text NOT NULL CHECK (host <> ''),"
    " port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),"
    " tls text NOT NULL CHECK (tls IN ('implicit', 'starttls', 'none')),"
    " username text,"
    /* Only sealed tokens: a plaintext secret is refused by the database. */
    " password text CHECK (password IS NULL OR password LIKE '" VAULT_TOKEN_PREFIX "%'),"
    " sender text NOT NULL CHECK (sender <> ''),"
    " ca_file text,"
    " tls_verify boolean NOT NULL,"
    " rewrite_sender boolean NOT NULL,"
    " rewrite_from boolean NOT NULL,"
    " max_connections integer NOT NULL CHECK (max_connections >= 1),"
    " rate_limit integer NOT NULL CHECK (rate_limit >= 0),"
    " bind_address text,"
    " insecure_plaintext boolean NOT NULL,"
    " created timestamptz NOT NULL,"
    " updated timestamptz NOT NULL,"
    " verified timestamptz,"
    " version bigint NOT NULL);"
    "CREATE TABLE tr_claims ("
    " kind text NOT NULL CHECK (kind IN ('domain', 'address')),"
    " name text NOT NULL CHECK (name = lower(name)),"
    " tenant_id text NOT NULL REFERENCES tr_tenants (id) ON DELETE CASCADE,"
    " ord integer NOT NULL,"
    " PRIMARY KEY (kind, name));"
    "CREATE INDEX tr_claims_tenant ON tr_claims (tenant_id);"
    "CREATE INDEX tr_claims_name ON tr_claims (name);"     /* a writer's claim check */
    "CREATE TABLE tr_changes ("
    " version bigint PRIMARY KEY,"
    " at timestamptz NOT NULL DEFAULT now(),"
    " usr text NOT NULL, action text NOT NULL, tenant text NOT NULL, fields text NOT NULL);"
    "CREATE TABLE tr_nodes ("
    " node text PRIMARY KEY,"
    " version bigint NOT NULL,"
    " snapshot_at timestamptz,"
    " seen_at timestamptz NOT NULL);"
    "INSERT INTO tr_meta (schema_version, version) VALUES (0, 0);",

    /* 2: OAuth2 routes (SPEC §3, §8): `auth` and the `oauth` group.  The
     * three secrets are sealed tokens only, as the password is; a password
     * route carries no oauth column. */
    "ALTER TABLE tr_tenants"
    " ADD COLUMN auth text NOT NULL DEFAULT 'password' CHECK (auth IN ('password', 'xoauth2')),"
    " ADD COLUMN oauth_provider text CHECK (oauth_provider IN ('microsoft', 'google', 'generic')),"
    " ADD COLUMN oauth_directory text,"
    " ADD COLUMN oauth_token_url text,"
    " ADD COLUMN oauth_client_id text,"
    " ADD COLUMN oauth_client_secret text"
    "  CHECK (oauth_client_secret IS NULL OR oauth_client_secret LIKE '" VAULT_TOKEN_PREFIX "%'),"
    " ADD COLUMN oauth_client_cert_file text,"
    " ADD COLUMN oauth_client_key text"
    "  CHECK (oauth_client_key IS NULL OR oauth_client_key LIKE '" VAULT_TOKEN_PREFIX "%'),"
    " ADD COLUMN oauth_service_account text"
    "  CHECK (oauth_service_account IS NULL OR oauth_service_account LIKE '" VAULT_TOKEN_PREFIX "%'),"
    " ADD COLUMN oauth_scope text,"
    " ADD COLUMN oauth_assertion_alg text,"
    " ADD CONSTRAINT tr_tenants_oauth CHECK ((auth = 'xoauth2') = (oauth_provider IS NOT NULL)"
    "  AND (auth = 'xoauth2' OR num_nonnulls(oauth_directory, oauth_token_url, oauth_client_id,"
    "   oauth_client_secret, oauth_client_cert_file, oauth_client_key, oauth_service_account,"
    "   oauth_scope, oauth_assertion_alg) = 0));",
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* Concurrent `store init`s wait for each other (any constant will do). */
#define INIT_LOCK "7461636574"

void store_pg_error(struct conf_error *err, const char *what, PGconn *c, const PGresult *r)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    size_t n;

    if (m == NULL || *m == 0)
        m = c ? PQerrorMessage(c) : "out of memory";
    n = strcspn(m, "\n");
    if (err && !err->text[0])
        snprintf(err->text, sizeof(err->text), "%s: %.*s", what, (int)n, m);
}

PGconn *store_pg_connect(const char *uri, int timeout, struct conf_error *err)
{
    char t[16];
    /* Keepalives and a TCP user timeout: a database that vanishes without
     * a FIN (a dead host, a cut network) is noticed in ~20 s, so the node
     * reports itself stale instead of waiting on a query forever. */
    const char *keys[] = { "connect_timeout", "application_name", "keepalives",
                           "keepalives_idle", "keepalives_interval", "keepalives_count",
                           "tcp_user_timeout", "dbname", NULL };
    const char *vals[] = { t, "tenantrelay", "1", "10", "5", "2", "20000", uri, NULL };
    PGconn *c;

    snprintf(t, sizeof(t), "%d", timeout);
    /* expand_dbname, with the URI last: the settings it names win over
     * these defaults; its password (if any) stays inside libpq. */
    c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL || PQstatus(c) != CONNECTION_OK) {
        store_pg_error(err, "PostgreSQL tenant store: cannot connect", c, NULL);
        PQfinish(c);
        return NULL;
    }
    return c;
}

int store_pg_exec(PGconn *c, const char *sql, struct conf_error *err)
{
    PGresult *r = PQexec(c, sql);
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);

    if (!ok)
        store_pg_error(err, "PostgreSQL tenant store", c, r);
    PQclear(r);
    return ok ? 0 : -1;
}

int store_pg_schema_version(PGconn *c, struct conf_error *err)
{
    PGresult *r = PQexec(c, "SELECT to_regclass('tr_meta') IS NOT NULL");
    int v = -1;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        store_pg_error(err, "PostgreSQL tenant store", c, r);
        goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
        v = 0;
        goto out;
    }
    PQclear(r);
    r = PQexec(c, "SELECT schema_version FROM tr_meta");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        store_pg_error(err, "PostgreSQL tenant store: tr_meta", c, r);
        goto out;
    }
    v = atoi(PQgetvalue(r, 0, 0));
out:
    PQclear(r);
    return v;
}

int64_t store_pg_version(PGconn *c, struct conf_error *err)
{
    PGresult *r = PQexec(c, "SELECT version, schema_version FROM tr_meta");
    int64_t v = -1;

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        store_pg_error(err, "PostgreSQL tenant store (run `tenantrelayctl store init`?)", c, r);
    } else if (atoi(PQgetvalue(r, 0, 1)) != STORE_PG_SCHEMA) {
        snprintf(err->text, sizeof(err->text),
                 "PostgreSQL tenant store: schema version %s, this build reads %d%s",
                 PQgetvalue(r, 0, 1), STORE_PG_SCHEMA,
                 atoi(PQgetvalue(r, 0, 1)) < STORE_PG_SCHEMA ? " (run `tenantrelayctl store init`)" : "");
    } else {
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return v;
}

int store_pg_init(const char *uri, int *from, int *to, struct conf_error *err)
{
    PGconn *c = store_pg_connect(uri, 10, err);
    char sql[128];
    int v, rc = -1;

    if (c == NULL)
        return -1;
    if (store_pg_exec(c, "BEGIN", err) < 0
        || store_pg_exec(c, "SELECT pg_advisory_xact_lock(" INIT_LOCK ")", err) < 0
        || (v = store_pg_schema_version(c, err)) < 0)
        goto out;
    *from = *to = v;
    if (v > (int)NMIGRATIONS) {
        snprintf(err->text, sizeof(err->text), "PostgreSQL tenant store: schema version %d is newer "
                 "than this build's (%d): nothing changed", v, (int)NMIGRATIONS);
        goto out;
    }
    for (; v < (int)NMIGRATIONS; v++) {
        if (store_pg_exec(c, migrations[v], err) < 0)
            goto out;
        snprintf(sql, sizeof(sql), "UPDATE tr_meta SET schema_version = %d", v + 1);
        if (store_pg_exec(c, sql, err) < 0)
            goto out;
    }
    if (store_pg_exec(c, "COMMIT", err) < 0)
        goto out;
    *to = v;
    rc = 0;
out:
    PQfinish(c);                /* without COMMIT: rolled back */
    return rc;
}

char *store_pg_status(const char *uri, struct conf_error *err)
{
    PGconn *c = store_pg_connect(uri, 10, err);
    PGresult *r = NULL;
    json_t *j = NULL, *nodes;
    char *out = NULL;
    int v;

    if (c == NULL)
        return NULL;
    if ((v = store_pg_schema_version(c, err)) < 0)
        goto out;
    j = json_pack("{s:s, s:i, s:i}", "backend", "postgresql", "schema_version", v,
                  "schema_version_supported", STORE_PG_SCHEMA);
    if (v == 0) {
        json_object_set_new(j, "initialized", json_false());
        out = json_dumps(j, JSON_INDENT(2));
        goto out;
    }
    r = PQexec(c, "SELECT m.version, (SELECT count(*) FROM tr_tenants),"
                  " (SELECT to_char(max(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM tr_changes)"
                  " FROM tr_meta m");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        store_pg_error(err, "PostgreSQL tenant store", c, r);
        goto out;
    }
    json_object_set_new(j, "initialized", json_true());
    json_object_set_new(j, "version", json_integer(strtoll(PQgetvalue(r, 0, 0), NULL, 10)));
    json_object_set_new(j, "tenants", json_integer(strtoll(PQgetvalue(r, 0, 1), NULL, 10)));
    json_object_set_new(j, "last_change", PQgetisnull(r, 0, 2) ? json_null()
                        : json_string(PQgetvalue(r, 0, 2)));
    PQclear(r);
    r = PQexec(c, "SELECT node, version, (SELECT version FROM tr_meta) - version,"
                  " to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                  " extract(epoch FROM now() - seen_at)::bigint,"
                  " extract(epoch FROM now() - snapshot_at)::bigint"
                  " FROM tr_nodes ORDER BY node");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        store_pg_error(err, "PostgreSQL tenant store: tr_nodes", c, r);
        goto out;
    }
    nodes = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(nodes, json_pack("{s:s, s:I, s:I, s:s, s:I, s:o}",
            "node", PQgetvalue(r, i, 0),
            "version", (json_int_t)strtoll(PQgetvalue(r, i, 1), NULL, 10),
            "versions_behind", (json_int_t)strtoll(PQgetvalue(r, i, 2), NULL, 10),
            "last_seen", PQgetvalue(r, i, 3),
            "last_seen_age", (json_int_t)strtoll(PQgetvalue(r, i, 4), NULL, 10),
            "snapshot_age", PQgetisnull(r, i, 5) ? json_null()
                            : json_integer(strtoll(PQgetvalue(r, i, 5), NULL, 10))));
    json_object_set_new(j, "nodes", nodes);
    out = json_dumps(j, JSON_INDENT(2));
out:
    json_decref(j);
    PQclear(r);
    PQfinish(c);
    return out;
}

bool store_pg_is_race(const PGresult *r)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    return st && (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "23505") == 0);
}
