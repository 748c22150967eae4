/*
 * ctl_key_uses.c - how many sealed secrets use a key (for key retire and
 * the audit; see ctl_vault.h): the default route's password, the webhook
 * secret, each tenant's route password and OAuth2 secrets.  Above both
 * ctl_vault.c and ctl_oauth.c, so that ctl_oauth.c can use the vault
 * helpers without a circle.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "ctl_oauth.h"
#include "ctl_vault.h"

static bool uses(const char *token, const char *id)
{
    char tid[VAULT_KEYID_LEN + 1];

    return token && vault_token_key_id(token, tid) == VAULT_OK && strcmp(tid, id) == 0;
}

size_t ctl_key_uses(const struct conf *conf, const struct tenant_store *store, const char *id)
{
    size_t n = (uses(conf->default_route.password, id) ? 1 : 0) + (uses(conf->webhook.secret, id) ? 1 : 0);

    n += ctl_oauth_key_uses(&conf->default_route, id);
    for (size_t i = 0; i < tenant_store_count(store); i++) {
        n += uses(tenant_store_at(store, i)->route.password, id);
        n += ctl_oauth_key_uses(&tenant_store_at(store, i)->route, id);
    }
    return n;
}
