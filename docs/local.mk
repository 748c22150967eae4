dist_man_MANS = docs/tenantrelayd.8 docs/tenantrelay-milter.8 docs/tenantrelayctl.8 \
	docs/tenantrelay.conf.5
