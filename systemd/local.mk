systemdsystemunitdir = $(prefix)/lib/systemd/system
systemdsystemunit_DATA = systemd/tenantrelayd.service systemd/tenantrelay-milter.service
EXTRA_DIST += systemd/tenantrelayd.service.in systemd/tenantrelay-milter.service.in
CLEANFILES += $(systemdsystemunit_DATA)

# Units name the installed paths, so they are made from templates.
edit_unit = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g'
systemd/tenantrelayd.service: $(srcdir)/systemd/tenantrelayd.service.in Makefile
	$(MKDIR_P) systemd
	$(edit_unit) $(srcdir)/systemd/tenantrelayd.service.in > $@
systemd/tenantrelay-milter.service: $(srcdir)/systemd/tenantrelay-milter.service.in Makefile
	$(MKDIR_P) systemd
	$(edit_unit) $(srcdir)/systemd/tenantrelay-milter.service.in > $@

sysusersdir = $(prefix)/lib/sysusers.d
dist_sysusers_DATA = systemd/sysusers.d/tenantrelay.conf
tmpfilesdir = $(prefix)/lib/tmpfiles.d
dist_tmpfiles_DATA = systemd/tmpfiles.d/tenantrelay.conf
