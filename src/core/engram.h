#ifndef ENGRAM_H_INCLUDED
#define ENGRAM_H_INCLUDED


#define ENGRAM_VERSION_NUM   1000
#define ENGRAM_VERSION       "0.1.0"
#define ENGRAM_VER           "engram/" ENGRAM_VERSION

/* inherited listening sockets travel in this environment variable */
#define ENGRAM_VAR           "ENGRAM"

#endif /* ENGRAM_H_INCLUDED */
