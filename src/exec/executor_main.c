/* gnomon-executor's entry point: a program of its own, apart from gnomon, so that it starts fast. */
#include "exec/executor.h"

int main(int argc, char **argv)
{
	return executor_main(argc, argv);
}
