#include "sim_check.h"

#include <stdarg.h>
#include <stdio.h>

void sim_violation(struct sim_check *c, const char *fmt, ...)
{
	va_list ap;
	if (c->violations++ > 0)
		return;
	c->at_ms = c->now ? c->now(c->now_ctx) : 0;
	va_start(ap, fmt);
	vsnprintf(c->first, sizeof(c->first), fmt, ap);
	va_end(ap);
}
