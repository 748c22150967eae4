/*
 * unit.h - what every cmocka unit test includes.
 */
#ifndef TENANTRELAY_TEST_UNIT_H
#define TENANTRELAY_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
