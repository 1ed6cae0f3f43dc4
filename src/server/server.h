/* `gnomon server`: the API, the store and (from the scheduler issue on) the engine, on one libuv loop. */
#ifndef GNOMON_SERVER_SERVER_H
#define GNOMON_SERVER_SERVER_H

/* Run `gnomon server ...`; argv[0] is "server". Returns the process exit code. */
int server_main(int argc, char **argv);

#endif
