/*
 * ctl_apitoken.c - tenantrelayctl api-token add NAME | list | revoke NAME:
 * tokens of the HTTP API (SPEC §6, §9).  `add` prints the token alone on
 * standard output, once; only its hash is stored (http_token.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "tenantrelay/ctl.h"
#include "tenantrelay/http_token.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/timefmt.h"
#include "ctl_vault.h"

#define USAGE "usage: api-token add NAME | list | revoke NAME"

int ctl_apitoken(struct ctl_ctx *ctx, int argc, char **argv)
{
    struct conf *conf;
    const char *sub = argc > 1 ? argv[1] : "";
    char err[512];

    if (!((strcmp(sub, "add") == 0 && argc == 3) || (strcmp(sub, "revoke") == 0 && argc == 3)
          || (strcmp(sub, "list") == 0 && argc == 2)))
        return ctl_fail(EX_USAGE, USAGE);
    if ((conf = ctl_conf(ctx)) == NULL)
        return EX_CONFIG;
    if (strcmp(sub, "add") == 0) {
        char *token = NULL;

        if (!http_token_name_is_valid(argv[2]))
            return ctl_fail(EX_USAGE, "token name \"%s\" must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}", argv[2]);
        if (http_token_add(conf->http.api_tokens, argv[2], &token, err, sizeof(err)) < 0)
            return ctl_fail(strstr(err, "exists") ? EX_DATAERR : EX_CANTCREAT, "%s", err);
        printf("%s\n", token);
        fflush(stdout);
        http_token_free_clear(token);
        return 0;
    }
    if (strcmp(sub, "revoke") == 0) {
        bool missing;

        if (http_token_revoke(conf->http.api_tokens, argv[2], &missing, err, sizeof(err)) < 0)
            return ctl_fail(missing ? EX_DATAERR : EX_IOERR, "%s", err);
        fprintf(stderr, "tenantrelayctl: token %s revoked\n", argv[2]);
        return 0;
    } else {
        struct http_token_entry *v = NULL;
        size_t n = 0;
        json_t *arr = json_array();

        if (http_token_load(conf->http.api_tokens, &v, &n, err, sizeof(err)) < 0) {
            json_decref(arr);
            return ctl_fail(EX_DATAERR, "%s", err);
        }
        if (!ctx->json)
            printf("%-32s %s\n", "NAME", "CREATED");
        for (size_t i = 0; i < n; i++) {
            json_t *t = timefmt_json(v[i].created);

            if (ctx->json)
                json_array_append_new(arr, json_pack("{s:s, s:o}", "name", v[i].name, "created", t));
            else {
                printf("%-32s %s\n", v[i].name, json_string_value(t));
                json_decref(t);
            }
        }
        if (ctx->json)
            ctl_json_print(json_pack("{s:o}", "tokens", arr));
        else
            json_decref(arr);
        myfree(v);
        return 0;
    }
}
