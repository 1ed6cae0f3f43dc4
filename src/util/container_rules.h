/* What a container job may ask of the runtime, checked when the job is posted (a 400 naming the field) and
 * again when its run command is built (a job stored before a rule existed fails its run instead): the image is
 * an image reference (never a flag), networkName a plain network name, volume paths absolute with no ':' or ','
 * (they would change the mount's meaning), parameters from an allow-list, and the host paths an agent lets a
 * container mount. Pure: no I/O. */
#ifndef GNOMON_UTIL_CONTAINER_RULES_H
#define GNOMON_UTIL_CONTAINER_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether s is an image reference: [domain[:port]/]path[:tag][@digest], as the registries' grammar has it. */
bool container_rules_image_ok(const char *s);

/* Check a container (the job's normalised JSON object): image, networkName, volumes' paths and parameters.
 * 0, or -EINVAL with a message naming the field ("container.image: ...") in err. */
int container_rules_check(json_t *c, char *err, size_t errlen) __attribute__((warn_unused_result));

/* What a volume's hostPath may be without --container-host-paths, as messages say it. */
#define CONTAINER_RULES_DEFAULT "any path but /, the runtimes' sockets and their directories"

/* Whether a volume's hostPath may be mounted: within one of prefixes (comma-separated absolute paths, as
 * --container-host-paths gives them); with none, any path but "/", the runtimes' sockets and the directories
 * that hold them. */
bool container_rules_host_path_ok(const char *path, const char *prefixes);

/* Whether the operator's --container-host-paths is a comma-separated list of absolute paths ("" is none). */
bool container_rules_host_paths_valid(const char *prefixes);

#endif
