/* heaptool.c: the program's main(), apart from the dispatch in main.c so that tests/fuzz/fuzz_cli.c
 * can link every command without it. */
#include "cli.h"

int main(int argc, char **argv)
{
    remove_unfinished_files_on_interrupt();
    return heaptool_main(argc, argv);
}
