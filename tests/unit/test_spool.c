/*
 * test_spool.c - the durable queue: commit, read back, state, list,
 * remove, abort, and start-up recovery of crash debris.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "tenantrelay/mymalloc.h"
#include "tenantrelay/spool.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/tr-spool.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static bool exists(const char *sub)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    return access(path, F_OK) == 0;
}

static void touch(const char *sub)
{
    char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
}

/* Files in dir/sub (not . and ..). */
static int count_files(const char *sub)
{
    char path[256];
    DIR *d;
    struct dirent *de;
    int n = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    d = opendir(path);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static ino_t inode_of(struct spool *sp, const char *id, const char *suffix)
{
    char path[512];
    struct stat st;

    assert_int_equal(stat(spool_path(sp, id, suffix, path, sizeof(path)), &st), 0);
    return st.st_ino;
}

static char *commit_one(struct spool *sp, const char *tenant, const char *body)
{
    char *rcpts[] = { "c@d.test", "e@f.test", NULL };
    struct spool_envelope env = { "", (char *)tenant, tenant ? SPOOL_TENANT_HEADER : SPOOL_TENANT_NONE,
                                  "a@b.test", rcpts, 2, 1700000000, SPOOL_FLAG_8BITMIME, 0,
                                  "127.0.0.1", "client.test", "<m@b.test>" };
    char err[256];
    struct spool_msg *m = spool_msg_begin(sp, err, sizeof(err));

    assert_non_null(m);
    assert_true(spool_qid_is_valid(spool_msg_id(m)));
    assert_int_equal(spool_msg_write(m, body, strlen(body)), 0);
    assert_int_equal(spool_msg_commit(m, &env, err, sizeof(err)), 0);
    assert_int_equal(env.size, strlen(body));
    return mystrdup(env.id);
}

static void test_commit_and_read(void **state)
{
    char err[256], path[512];
    struct spool *sp = spool_open(dir, true, err, sizeof(err));
    struct spool_envelope env;
    char *id;
    FILE *fp;
    char buf[64] = "";

    assert_non_null(sp);
    id = commit_one(sp, "acme", "Subject: x\r\n\r\nbody\r\n");
    assert_int_equal(spool_envelope_read(sp, id, &env, err, sizeof(err)), 0);
    assert_string_equal(env.id, id);
    assert_string_equal(env.tenant, "acme");
    assert_int_equal(env.tenant_source, SPOOL_TENANT_HEADER);
    assert_string_equal(env.sender, "a@b.test");
    assert_int_equal(env.recipient_count, 2);
    assert_string_equal(env.recipients[1], "e@f.test");
    assert_null(env.recipients[2]);
    assert_int_equal(env.arrival, 1700000000);
    assert_int_equal(env.flags, SPOOL_FLAG_8BITMIME);
    assert_string_equal(env.helo, "client.test");
    assert_string_equal(env.message_id, "<m@b.test>");
    spool_envelope_free(&env);
    fp = fopen(spool_path(sp, id, ".msg", path, sizeof(path)), "r");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, fp), 20);
    fclose(fp);
    assert_string_equal(buf, "Subject: x\r\n\r\nbody\r\n");
    /* nothing left in tmp/ */
    assert_int_equal(rmdir(strcat(strcpy(path, dir), "/tmp")), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    myfree(id);
    spool_close(sp);
}

static void test_state_list_remove(void **state)
{
    char err[256];
    struct spool *sp = spool_open(dir, true, err, sizeof(err));
    struct spool_state st;
    char *done[] = { "c@d.test", NULL };
    struct spool_state save = { SPOOL_DEFERRED, 2, 1700000600, 1700000300,
                                "451 4.3.0 try\r\nlater", done };
    char *a, *b;
    char **ids;
    size_t n;

    a = commit_one(sp, NULL, "x\r\n");
    b = commit_one(sp, "beta", "y\r\n");
    assert_true(strcmp(a, b) < 0);      /* ids sort by arrival */
    assert_int_equal(spool_state_read(sp, a, &st, err, sizeof(err)), 0);
    assert_int_equal(st.state, SPOOL_QUEUED);
    assert_int_equal(st.attempts, 0);
    spool_state_free(&st);
    assert_int_equal(spool_state_save(sp, a, &save, err, sizeof(err)), 0);
    assert_int_equal(spool_state_read(sp, a, &st, err, sizeof(err)), 0);
    assert_int_equal(st.state, SPOOL_DEFERRED);
    assert_int_equal(st.attempts, 2);
    assert_int_equal(st.next_attempt, 1700000600);
    assert_int_equal(st.last_attempt, 1700000300);
    assert_string_equal(st.last_reply, "451 4.3.0 try  later");
    assert_string_equal(st.done_recipients[0], "c@d.test");
    spool_state_free(&st);
    assert_int_equal(spool_list(sp, &ids, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], a);
    assert_string_equal(ids[1], b);
    spool_ids_free(ids);
    assert_int_equal(spool_remove(sp, a, err, sizeof(err)), 0);
    assert_int_equal(spool_remove(sp, a, err, sizeof(err)), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(spool_list(sp, &ids, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    spool_ids_free(ids);
    assert_int_equal(spool_remove(sp, "../../etc/passwd", err, sizeof(err)), -1);
    myfree(a);
    myfree(b);
    spool_close(sp);
}

static void test_abort_and_recover(void **state)
{
    char err[256];
    struct spool *sp = spool_open(dir, true, err, sizeof(err));
    struct spool_msg *m;
    char **ids;
    size_t n;
    char *keep;

    assert_int_equal(count_files("tmp"), 0);
    m = spool_msg_begin(sp, err, sizeof(err));
    assert_int_equal(count_files("tmp"), 1);
    spool_msg_abort(m);
    assert_int_equal(count_files("tmp"), 0);
    keep = commit_one(sp, "acme", "x\r\n");
    /* crash debris: a temp file, a .msg and a .state without .env, an .env without .msg */
    touch("tmp/0000000000000001.msg");
    touch("queue/0000000000000002.msg");
    touch("queue/0000000000000003.state");
    touch("queue/0000000000000004.env");
    assert_int_equal(spool_recover(sp, &ids, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], keep);
    spool_ids_free(ids);
    assert_false(exists("tmp/0000000000000001.msg"));
    assert_false(exists("queue/0000000000000002.msg"));
    assert_false(exists("queue/0000000000000003.state"));
    assert_false(exists("queue/0000000000000004.env"));
    myfree(keep);
    spool_close(sp);
}

/* A delivered message's files are reused, but only once their removal
 * from queue/ has been synced; a reused file holds nothing of the message
 * it carried before; files not reused in time are deleted. */
static void test_recycle(void **state)
{
    char err[256], path[512], buf[128] = "";
    struct spool *sp = spool_open(dir, true, err, sizeof(err));
    char *a, *b, *c, **ids;
    ino_t a_msg, a_env;
    size_t n;
    FILE *fp;

    assert_non_null(sp);
    a = commit_one(sp, "acme", "Subject: a long first message\r\n\r\nwith a body\r\n");
    a_msg = inode_of(sp, a, ".msg");
    a_env = inode_of(sp, a, ".env");
    assert_int_equal(spool_remove_delivered(sp, a, err, sizeof(err)), 0);
    snprintf(buf, sizeof(buf), "queue/%s.env", a);
    assert_false(exists(buf));
    snprintf(buf, sizeof(buf), "queue/%s.msg", a);
    assert_false(exists(buf));
    assert_int_equal(spool_list(sp, &ids, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    spool_ids_free(ids);
    /* In tmp/, waiting for a sync of queue/. */
    assert_int_equal(count_files("tmp"), 2);
    /* b's files are new (a's removal not synced yet); b's commit syncs. */
    b = commit_one(sp, NULL, "b\r\n");
    assert_true(inode_of(sp, b, ".msg") != a_msg && inode_of(sp, b, ".msg") != a_env);
    assert_int_equal(count_files("tmp"), 2);
    /* Now c takes a's files (overwritten, the tail cut): no new inode. */
    c = commit_one(sp, "beta", "c\r\n");
    assert_true(inode_of(sp, c, ".msg") == a_msg || inode_of(sp, c, ".msg") == a_env);
    assert_true(inode_of(sp, c, ".env") == a_msg || inode_of(sp, c, ".env") == a_env);
    assert_int_equal(count_files("tmp"), 0);
    fp = fopen(spool_path(sp, c, ".msg", path, sizeof(path)), "r");
    assert_non_null(fp);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, fp), 3);
    fclose(fp);
    assert_string_equal(buf, "c\r\n");
    /* Files waiting too long for reuse are deleted. */
    assert_int_equal(spool_remove_delivered(sp, c, err, sizeof(err)), 0);
    assert_int_equal(count_files("tmp"), 2);
    assert_int_equal(spool_expire_free(sp, SPOOL_FREE_IDLE), 0);
    assert_int_equal(count_files("tmp"), 2);
    assert_int_equal(spool_expire_free(sp, -1), 2);
    assert_int_equal(count_files("tmp"), 0);
    /* Removal of a message that is not there is reported, not recycled. */
    assert_int_equal(spool_remove_delivered(sp, a, err, sizeof(err)), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(spool_remove_delivered(sp, "../../etc/passwd", err, sizeof(err)), -1);
    myfree(a);
    myfree(b);
    myfree(c);
    spool_close(sp);
}

/* A commit never replaces a queued message: an id already taken (a
 * clock stepped back) fails the commit and leaves the other message. */
static void test_commit_never_replaces(void **state)
{
    char err[256], name[160], buf[32] = "";
    struct spool *sp = spool_open(dir, true, err, sizeof(err));
    struct spool_envelope env = { .sender = "a@b.test" };
    char *rcpts[] = { "c@d.test", NULL };
    struct spool_msg *m;
    FILE *fp;

    assert_non_null(sp);
    env.recipients = rcpts;
    env.recipient_count = 1;
    m = spool_msg_begin(sp, err, sizeof(err));
    assert_non_null(m);
    snprintf(name, sizeof(name), "%s/queue/%s.msg", dir, spool_msg_id(m));
    fp = fopen(name, "w");
    assert_non_null(fp);
    fputs("older", fp);
    fclose(fp);
    assert_int_equal(spool_msg_write(m, "newer\r\n", 7), 0);
    assert_int_equal(spool_msg_commit(m, &env, err, sizeof(err)), -1);
    assert_int_equal(errno, EEXIST);
    fp = fopen(name, "r");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, fp), 5);
    fclose(fp);
    assert_string_equal(buf, "older");
    assert_int_equal(count_files("tmp"), 0);
    spool_close(sp);
}

static void test_qid_and_names(void **state)
{
    assert_true(spool_qid_is_valid("0123456789ABCDEF"));
    assert_false(spool_qid_is_valid("0123456789abcdef"));
    assert_false(spool_qid_is_valid("0123456789ABCDE"));
    assert_false(spool_qid_is_valid("../../../../../x"));
    assert_string_equal(spool_state_name(SPOOL_HELD), "held");
    assert_int_equal(spool_state_parse("failed"), SPOOL_FAILED);
    assert_int_equal(spool_state_parse("nope"), -1);
    assert_string_equal(spool_tenant_source_name(SPOOL_TENANT_SENDER), "sender");
}

static void test_open_missing(void **state)
{
    char err[256];

    assert_null(spool_open("/nonexistent/tr-spool", false, err, sizeof(err)));
    assert_int_equal(errno, ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_list_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_never_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_recover, setup, teardown),
        cmocka_unit_test(test_qid_and_names),
        cmocka_unit_test(test_open_missing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
