/* placeholder while the HTTP client is written */

#include <eg_config.h>
#include <eg_core.h>
