/* test_leak_kinds.c: memcheck's leak categories through the library API: the nine cases of
 * memcheck's manual block by block, lost cycles split by address order, claims that stop at
 * blocks an earlier leader claimed, and on random graphs the agreement with plain reachability
 * (hd_reach): lost is exactly unreachable, and without interior pointers nothing is possible. */
#include "heapdump.h"
#include "random_dump.h"

#include <criterion/criterion.h>
#include <string.h>

static hd_dump *load_text(const char *text)
{
    hd_dump *d = NULL;
    hd_error err;
    cr_assert_eq(hd_load_buffer(text, strlen(text), "kinds.json", NULL, &d, &err), HD_OK, "%s", err.message);
    return d;
}

static hd_leak_kinds *kinds_of(const hd_dump *d)
{
    hd_leak_kinds *k = NULL;
    cr_assert_eq(hd_leak_kinds_compute(d, &k), HD_OK);
    return k;
}

static enum hd_leak_kind kind_of(const hd_dump *d, const hd_leak_kinds *k, uint64_t id)
{
    uint32_t o = hd_object_find(d, id);
    cr_assert_neq(o, HD_NONE);
    return (enum hd_leak_kind)k->kind[o];
}

/* The table of memcheck's manual: AAA and BBB of each case, by the case's id pair. */
Test(leak_kinds, the_nine_cases_of_memchecks_manual)
{
    hd_dump *d = NULL;
    hd_error err;
    cr_assert_eq(hd_load("samples/dumps/leak_cases.json", NULL, &d, &err), HD_OK, "%s", err.message);
    cr_assert(hd_dump_is_native(d));
    hd_leak_kinds *k = kinds_of(d);
    /* ids in case order: 1 B; 2 B A; 3 B; 4 B A; 5 B; 6 B A; 7 B A; 8 B A; 9 B A */
    static const struct { uint64_t id; enum hd_leak_kind kind; } want[] = {
        {1, HD_LEAK_REACHABLE},                          /* (1) RRR ---> BBB */
        {3, HD_LEAK_REACHABLE}, {2, HD_LEAK_REACHABLE},  /* (2) RRR ---> AAA ---> BBB */
        {4, HD_LEAK_DEFINITE},                           /* (3) RRR      BBB */
        {6, HD_LEAK_DEFINITE}, {5, HD_LEAK_INDIRECT},    /* (4) RRR      AAA ---> BBB */
        {7, HD_LEAK_POSSIBLE},                           /* (5) RRR -?-> BBB */
        {9, HD_LEAK_REACHABLE}, {8, HD_LEAK_POSSIBLE},   /* (6) RRR ---> AAA -?-> BBB */
        {11, HD_LEAK_POSSIBLE}, {10, HD_LEAK_POSSIBLE},  /* (7) RRR -?-> AAA ---> BBB */
        {13, HD_LEAK_POSSIBLE}, {12, HD_LEAK_POSSIBLE},  /* (8) RRR -?-> AAA -?-> BBB */
        {15, HD_LEAK_DEFINITE}, {14, HD_LEAK_INDIRECT},  /* (9) RRR      AAA -?-> BBB */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_eq(kind_of(d, k, want[i].id), want[i].kind, "block %llu is %s",
                     (unsigned long long)want[i].id, hd_leak_kind_name((enum hd_leak_kind)kind_of(d, k, want[i].id)));
    cr_assert_eq(k->blocks[HD_LEAK_DEFINITE], 3);
    cr_assert_eq(k->bytes[HD_LEAK_INDIRECT], 32);
    cr_assert_eq(k->nrecords, 12);
    for (uint32_t r = 1; r < k->nrecords; r++) /* smallest first */
        cr_assert_leq(k->records[r - 1].bytes + k->records[r - 1].indirect_bytes,
                      k->records[r].bytes + k->records[r].indirect_bytes);
    hd_leak_kinds_free(k);
    hd_dump_free(d);
}

#define HEAD "{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": \"b\"}], \"objects\": [\n"
#define B(id, addr, refs) "{\"id\": " #id ", \"type\": 0, \"size\": 16, \"address\": " #addr ", \"refs\": [" refs "]}"

/* A lost cycle: its first block in address order is definitely lost, whatever the dump order. */
Test(leak_kinds, a_lost_cycle_is_led_by_its_lowest_address)
{
    hd_dump *d = load_text(HEAD B(1, 300, "[2]") ",\n" B(2, 100, "[3]") ",\n" B(3, 200, "[1]") "]}");
    hd_leak_kinds *k = kinds_of(d);
    cr_assert_eq(kind_of(d, k, 2), HD_LEAK_DEFINITE);
    cr_assert_eq(kind_of(d, k, 1), HD_LEAK_INDIRECT);
    cr_assert_eq(kind_of(d, k, 3), HD_LEAK_INDIRECT);
    cr_assert_eq(k->leader[hd_object_find(d, 1)], hd_object_find(d, 2));
    cr_assert_eq(k->nrecords, 2);
    cr_assert_eq(k->records[1].kind, HD_LEAK_DEFINITE);
    cr_assert_eq(k->records[1].indirect_bytes, 32);
    hd_leak_kinds_free(k);
    hd_dump_free(d);
}

/* B (lowest address) and X point at each other; C points at X only. B leads first and claims X;
 * C's walk stops at the claimed X, so C is definitely lost too, as in memcheck. A later leader
 * that reaches an earlier one takes over its clique: D -> A -> Y, with A led first. */
Test(leak_kinds, claims_stop_at_claimed_blocks_and_cliques_join)
{
    hd_dump *d = load_text(HEAD B(1, 10, "[2]") ",\n" B(2, 30, "[1]") ",\n" B(3, 50, "[2]") ",\n"
                           B(4, 20, "[5]") ",\n" B(5, 90, "") ",\n" B(6, 70, "[4]") "]}");
    hd_leak_kinds *k = kinds_of(d);
    cr_assert_eq(kind_of(d, k, 1), HD_LEAK_DEFINITE);
    cr_assert_eq(kind_of(d, k, 2), HD_LEAK_INDIRECT);
    cr_assert_eq(kind_of(d, k, 3), HD_LEAK_DEFINITE);
    cr_assert_eq(kind_of(d, k, 4), HD_LEAK_INDIRECT);
    cr_assert_eq(kind_of(d, k, 5), HD_LEAK_INDIRECT);
    cr_assert_eq(kind_of(d, k, 6), HD_LEAK_DEFINITE);
    cr_assert_eq(k->leader[hd_object_find(d, 5)], hd_object_find(d, 6), "A's clique joined D's");
    hd_leak_kinds_free(k);
    hd_dump_free(d);
}

Test(leak_kinds, lost_is_unreachable_and_start_pointers_never_make_possible)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rd_graph g;
        rd_random(&g, seed, 1 + (uint32_t)(seed * 53 % 400), 1 + (uint32_t)(seed % 3), (uint32_t)(seed % 7));
        hd_dump *d = rd_load(&g);
        hd_leak_kinds *k = kinds_of(d);
        hd_reach *r = NULL;
        cr_assert_eq(hd_reach_compute(d, &r), HD_OK);
        for (uint32_t o = 0; o < hd_object_count(d); o++) {
            bool lost = k->kind[o] == HD_LEAK_DEFINITE || k->kind[o] == HD_LEAK_INDIRECT;
            cr_assert_eq(lost, r->state[o] == HD_REACH_UNREACHABLE, "seed %llu object %u",
                         (unsigned long long)seed, o);
            cr_assert_neq(k->kind[o], HD_LEAK_POSSIBLE);
        }
        uint64_t blocks = 0;
        for (uint32_t i = 0; i < k->nrecords; i++)
            blocks += k->records[i].blocks;
        cr_assert_eq(blocks, hd_object_count(d));
        hd_reach_free(r);
        hd_leak_kinds_free(k);
        hd_dump_free(d);
        rd_free(&g);
    }
}

Test(leak_kinds, bad_arguments)
{
    hd_leak_kinds *k = (hd_leak_kinds *)1;
    cr_assert_eq(hd_leak_kinds_compute(NULL, &k), HD_EINVAL);
    cr_assert_null(k);
    cr_assert_eq(hd_leak_kinds_compute(NULL, NULL), HD_EINVAL);
    hd_leak_kinds_free(NULL);
    cr_assert_str_eq(hd_leak_kind_name(HD_LEAK_POSSIBLE), "possibly lost");
}
