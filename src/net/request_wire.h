/* The bytes of an HTTP/1.1 request as net_uv.c sends it: request line, Host and User-Agent unless given, the
 * caller's fields (a "Name:" without a value leaves a field out, as in curl; Content-Length and
 * Transfer-Encoding are the client's to say), Content-Length for a body (and for POST, PUT and PATCH without
 * one), the body. Pure. */
#ifndef GNOMON_NET_REQUEST_WIRE_H
#define GNOMON_NET_REQUEST_WIRE_H

#include <stddef.h>

#include "net/net.h"
#include "net/net_url.h"

/* opt's request to url into *wire (malloc'd, *len bytes); 0, or -EINVAL with a message in err (a method that is
 * not one, a field that is not one line of "Name: value"). */
int request_wire(const struct net_request_options *opt, const struct net_url *url, char **wire, size_t *len,
    char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
