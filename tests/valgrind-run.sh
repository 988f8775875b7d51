#!/bin/sh
# A program under valgrind, for make check: any memory error or leak turns the exit status into
# 99, which no test expects, so the case fails and shows the report.
exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
    --suppressions="$(dirname "$0")/valgrind.supp" "$@"
