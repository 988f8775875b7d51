/* test_decimal.c: hq_decimal_at, the exports' and query output's integers, against snprintf:
 * every value below 10^6, the powers of ten and their neighbours, the extremes, and random
 * values of every length. */
#include "query/sink.h"

#include <criterion/criterion.h>
#include <inttypes.h>

#include "random_numbers.h"

static void check(int64_t v)
{
    char want[32], got[32];
    memset(got, 'x', sizeof got);
    int n = snprintf(want, sizeof want, "%" PRId64, v);
    char *end = hq_decimal_at(got, v);
    cr_assert_eq(end - got, n, "%s: %d characters, want %d", want, (int)(end - got), n);
    cr_assert(!memcmp(got, want, (size_t)n), "%s: got %.*s", want, n, got);
}

Test(decimal, small_values_all)
{
    for (int64_t v = -1000; v < 1000000; v++)
        check(v);
}

Test(decimal, powers_of_ten_and_extremes)
{
    int64_t p = 1;
    for (int k = 0; k < 19; k++) {
        for (int64_t d = -2; d <= 2; d++) {
            check(p + d);
            check(-(p + d));
        }
        if (k < 18)
            p *= 10; /* 10^18 is the last power of ten an int64_t holds */
    }
    check(INT64_MAX);
    check(INT64_MIN);
    check(INT64_MIN + 1);
    check(99999999);
    check(100000000);
}

Test(decimal, random_values_of_every_length)
{
    uint64_t state = 88172645463325252ull;
    for (int i = 0; i < 2000000; i++) {
        uint64_t r = xorshift64(&state);
        check((int64_t)(r >> (r % 64)));
        check(-(int64_t)(r >> (r % 63 + 1)));
    }
}
