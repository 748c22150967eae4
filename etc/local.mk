# The sample configuration; installed as the live file only when none exists.
dist_doc_DATA = etc/tenantrelay.conf

install-data-local: install-sample-config
install-sample-config:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)/tenantrelay'
	test -f '$(DESTDIR)$(sysconfdir)/tenantrelay/tenantrelay.conf' || \
	  $(INSTALL_DATA) '$(srcdir)/etc/tenantrelay.conf' '$(DESTDIR)$(sysconfdir)/tenantrelay/tenantrelay.conf'

uninstall-local: uninstall-sample-config
uninstall-sample-config:
	if test -f '$(DESTDIR)$(sysconfdir)/tenantrelay/tenantrelay.conf' && \
	   cmp -s '$(srcdir)/etc/tenantrelay.conf' '$(DESTDIR)$(sysconfdir)/tenantrelay/tenantrelay.conf'; then \
	  rm -f '$(DESTDIR)$(sysconfdir)/tenantrelay/tenantrelay.conf'; fi
