/*
 * vault.h - the keyring of master keys and the sealed tokens that keep
 * credentials encrypted at rest (libsodium).
 *
 * Keyring: 32-byte random keys, each with a short public id derived by a
 * keyed hash (BLAKE2b keyed by the key over a fixed label: the id reveals
 * nothing about the key).  One key is primary (new seals use it); others
 * are active (still open old tokens) or retired (they open nothing, their
 * bytes are gone from the keyring file, only the id and dates remain so
 * the audit can name a record that still refers to one).  Key bytes live only in
 * sodium_malloc'd (guarded, mlock'd) memory and are wiped on vault_free().
 *
 * Token: "trv1:<key id>:<base64url, no padding, of nonce || ciphertext>",
 * XChaCha20-Poly1305 (IETF) with a fresh random 24-byte nonce and the
 * associated data "trv1" NUL keyid NUL tenant NUL field, so a token copied
 * to another tenant or another field does not open.  The default route's
 * secrets are sealed for the reserved tenant id "default".
 *
 * Ownership: vault_load*() return a vault the caller frees with
 * vault_free(); vault_seal() returns a token the caller frees with myfree();
 * vault_open() returns the plaintext in sodium_malloc'd memory the caller
 * frees with vault_plain_free() as soon as it is used.
 */
#ifndef TENANTRELAY_VAULT_H
#define TENANTRELAY_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>


#define VAULT_KEY_BYTES 32
#define VAULT_KEYID_LEN 12              /* hex characters */
#define VAULT_TOKEN_PREFIX "trv1:"
#define VAULT_SECRET_MAX 4096           /* longest secret that can be sealed */

enum vault_key_state { VAULT_KEY_PRIMARY, VAULT_KEY_ACTIVE, VAULT_KEY_RETIRED };
extern const char *const vault_key_state_names[];   /* "primary", "active", "retired" */

/* vault_open() and vault_token_key_id() results (negative: failure). */
enum vault_status {
    VAULT_OK = 0,
    VAULT_ERR_FORMAT = -1,      /* not a token at all, or a malformed one */
    VAULT_ERR_VERSION = -2,     /* "trvN:" with an N this version does not know */
    VAULT_ERR_KEYID = -3,       /* sealed with a key not in the keyring */
    VAULT_ERR_BASE64 = -4,
    VAULT_ERR_TRUNCATED = -5,
    VAULT_ERR_AUTH = -6,        /* tampered, wrong key, or another tenant/field */
    VAULT_ERR_RETIRED = -7,     /* sealed with a retired key: it opens nothing */
};

struct vault_key_info {
    char id[VAULT_KEYID_LEN + 1];
    enum vault_key_state state;
    time_t created;
};

struct vault;

/* Initialise libsodium (idempotent).  0 or -1. */
int vault_init(void);

/* The configured keyring (the configuration's key_file, key_credential and
 * user; the vault needs no more of it): $CREDENTIALS_DIRECTORY/<key_credential>
 * when key_credential is set (no mode check: systemd guarantees it), else
 * key_file, refused when group or others may read or write it or when it
 * is owned by anyone but root, this process's user or the service user
 * (user, may be NULL).  NULL with a message in err. */
struct vault *vault_load(const char *key_file, const char *key_credential, const char *user,
                         char *err, size_t errlen);
/* The keyring at path; check_mode refuses group/other access bits and
 * owners other than root and this process's user. */
struct vault *vault_load_file(const char *path, bool check_mode, char *err, size_t errlen);
/* An empty keyring (for key init). */
struct vault *vault_new(void);
void vault_free(struct vault *v);

/* Where the keyring lives (key_file, or the credential path when
 * key_credential is set); buf. */
const char *vault_path(const char *key_file, const char *key_credential, char *buf, size_t len);

size_t vault_key_count(const struct vault *v);
const struct vault_key_info *vault_key_at(const struct vault *v, size_t i);
const struct vault_key_info *vault_key_find(const struct vault *v, const char *id);
/* The primary key's id, or NULL for an empty keyring. */
const char *vault_primary_id(const struct vault *v);

/* Add a fresh random key and make it primary (the old primary becomes
 * active).  Its id is copied to id_out when not NULL.  0 or -1. */
int vault_key_generate(struct vault *v, char *id_out, char *err, size_t errlen);
/* Mark a key retired (never the primary) and wipe its bytes: the next
 * vault_save() writes its line without them.  0 or -1. */
int vault_key_retire(struct vault *v, const char *id, char *err, size_t errlen);

/* Write the keyring to path, mode 0600: with exclusive, refuse an existing
 * file (errno EEXIST, for key init); otherwise replace it atomically (temp,
 * fsync, rename, directory fsync), keeping its owner and mode.  0 or -1. */
int vault_save(const struct vault *v, const char *path, bool exclusive, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Seal len bytes of plain for (tenant, field) under the primary key.
 * *token_out is the caller's (myfree).  0 or -1. */
int vault_seal(const struct vault *v, const char *tenant, const char *field,
               const unsigned char *plain, size_t len, char **token_out, char *err,
               size_t errlen) __attribute__((warn_unused_result));
/* Open a token sealed for (tenant, field).  *plain_out is sodium_malloc'd,
 * NUL-terminated, *len_out bytes; free it with vault_plain_free().
 * VAULT_OK, or a negative enum vault_status with a message in err. */
int vault_open(const struct vault *v, const char *tenant, const char *field, const char *token,
               unsigned char **plain_out, size_t *len_out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void vault_plain_free(unsigned char *plain, size_t len);

/* True when s has the shape of a sealed token ("trv<digits>:..."): a value
 * that does not is a plaintext secret. */
bool vault_token_looks_sealed(const char *s);
/* The key id named by a token (no decryption): VAULT_OK, or
 * VAULT_ERR_FORMAT / VAULT_ERR_VERSION. */
int vault_token_key_id(const char *token, char id_out[VAULT_KEYID_LEN + 1]);

#endif
