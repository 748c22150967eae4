/*
 * ctl_oauth_instructions.c - tenantrelayctl oauth instructions: the admin
 * steps a tenant's administrator performs, in order, with the ids filled
 * in.  Microsoft: the admin-consent URL and the Exchange Online PowerShell
 * lines (service principal, mailbox permission, or the RBAC-for-
 * Applications equivalent, and SMTP AUTH on the mailbox).  Google: the
 * service account and its domain-wide delegation.  Nothing secret is
 * printed or needed.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "tenantrelay/ctl.h"
#include "tenantrelay/mailaddr.h"

#define USAGE "usage: oauth instructions --provider microsoft --directory ID --client-id ID --mailbox ADDR\n" \
    "       oauth instructions --provider google --client-id ID --mailbox ADDR"

/* Only the characters an id or an address can hold: the values go into a
 * URL and into PowerShell lines the administrator pastes. */
static bool safe(const char *s)
{
    if (s == NULL || *s == 0 || strlen(s) > 254)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || strchr("-._@+", *s)))
            return false;
    return true;
}

static void microsoft(const char *dir, const char *cid, const char *mbox)
{
    printf("Microsoft 365 / Exchange Online: application %s in directory %s, sending as %s\n\n", cid, dir, mbox);
    printf("1. In the Microsoft Entra admin center, App registrations > the app > API permissions:\n"
           "   Add a permission > APIs my organization uses > Office 365 Exchange Online >\n"
           "   Application permissions > SMTP.SendAsApp.  Then Certificates & secrets: a client\n"
           "   secret (give its Value to tenantrelayctl) or upload the certificate's public part.\n\n");
    printf("2. A Global Administrator grants admin consent by opening:\n"
           "   https://login.microsoftonline.com/%s/adminconsent?client_id=%s\n\n", dir, cid);
    printf("3. In Exchange Online PowerShell (Connect-ExchangeOnline as an Exchange administrator).\n"
           "   OBJECT_ID is the Object ID of the Enterprise application (Entra admin center >\n"
           "   Enterprise applications > the app > Overview), not of the app registration:\n\n");
    printf("   New-ServicePrincipal -AppId %s -ObjectId OBJECT_ID -DisplayName \"tenantrelay %s\"\n", cid, mbox);
    printf("   Add-MailboxPermission -Identity \"%s\" -User OBJECT_ID -AccessRights FullAccess\n", mbox);
    printf("   Set-CASMailbox -Identity \"%s\" -SmtpClientAuthenticationDisabled $false\n\n", mbox);
    printf("   Or, instead of Add-MailboxPermission, RBAC for Applications scoped to this mailbox:\n\n");
    printf("   New-ManagementScope -Name \"tenantrelay %s\" -RecipientRestrictionFilter \"PrimarySmtpAddress -eq '%s'\"\n",
           mbox, mbox);
    printf("   New-ManagementRoleAssignment -App OBJECT_ID -Role \"Application SMTP.SendAsApp\" "
           "-CustomResourceScope \"tenantrelay %s\"\n\n", mbox);
    printf("4. On the relay:\n"
           "   tenantrelayctl tenant set TENANT --host smtp.office365.com --port 587 --username %s \\\n"
           "       --sender %s --auth xoauth2 --oauth-provider microsoft --oauth-directory %s \\\n"
           "       --oauth-client-id %s --oauth-secret-stdin\n"
           "   (or --oauth-key-file KEY.pem --oauth-cert-file CERT.pem for a certificate)\n", mbox, mbox, dir, cid);
}

static void google(const char *cid, const char *mbox)
{
    printf("Google Workspace: service account with client id %s, sending as %s\n\n", cid, mbox);
    printf("1. In the Google Cloud console, IAM & Admin > Service accounts: create a service account\n"
           "   (or pick one), then Keys > Add key > Create new key > JSON.  Keep the file safe: it is\n"
           "   given once to tenantrelayctl, which seals it.  The Unique ID on the account's Details\n"
           "   page is its client id (%s).\n\n", cid);
    printf("2. A super administrator of the Workspace domain, in the Admin console:\n"
           "   Security > Access and data control > API controls > Manage Domain Wide Delegation >\n"
           "   Add new:\n"
           "     Client ID:    %s\n"
           "     OAuth scopes: https://mail.google.com/\n\n", cid);
    printf("3. The mailbox %s must be an active user of that domain (the relay signs in as it).\n\n", mbox);
    printf("4. On the relay:\n"
           "   tenantrelayctl tenant set TENANT --host smtp.gmail.com --port 465 --username %s \\\n"
           "       --sender %s --auth xoauth2 --oauth-provider google --oauth-key-file KEY.json\n", mbox, mbox);
}

int ctl_oauth(struct ctl_ctx *ctx, int argc, char **argv)
{
    const char *provider = NULL, *dir = NULL, *cid = NULL, *mbox = NULL;

    (void)ctx;
    if (argc < 2 || strcmp(argv[1], "instructions") != 0)
        return ctl_fail(EX_USAGE, USAGE);
    for (int i = 2; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--provider") == 0 ? &provider
                            : strcmp(argv[i], "--directory") == 0 ? &dir
                            : strcmp(argv[i], "--client-id") == 0 ? &cid
                            : strcmp(argv[i], "--mailbox") == 0 ? &mbox : NULL;

        if (slot == NULL || i + 1 >= argc)
            return ctl_fail(EX_USAGE, "%s %s\n%s", argv[i], slot ? "needs a value" : "is not an option", USAGE);
        *slot = argv[++i];
    }
    if (provider == NULL || cid == NULL || mbox == NULL)
        return ctl_fail(EX_USAGE, USAGE);
    if (!safe(cid) || (dir && !safe(dir)) || !mailaddr_is_valid(mbox, false) || !safe(mbox))
        return ctl_fail(EX_DATAERR, "the directory, client id and mailbox may hold only letters, digits "
                        "and - . _ @ + (and the mailbox must be an address)");
    if (strcmp(provider, "microsoft") == 0) {
        if (dir == NULL)
            return ctl_fail(EX_USAGE, "--provider microsoft needs --directory\n%s", USAGE);
        microsoft(dir, cid, mbox);
    } else if (strcmp(provider, "google") == 0) {
        google(cid, mbox);
    } else {
        return ctl_fail(EX_USAGE, "--provider must be microsoft or google\n%s", USAGE);
    }
    return 0;
}
