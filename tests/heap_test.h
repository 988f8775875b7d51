/* heap_test.h: HEAP_TEST(name) runs a Criterion test of suite HEAP_SUITE on a fresh heap `h`
 * and fails it when anything is left alive at the end. The check is made in the test body, where
 * a failed assertion counts: Criterion ignores those made in .fini. */
#ifndef HEAP_TEST_H
#define HEAP_TEST_H

#include <criterion/criterion.h>

#include "hm.h"

static hm_heap *h;

/* A suite may define HEAP_TEST_SETUP() to reset its own state before each test. */
#ifndef HEAP_TEST_SETUP
#define HEAP_TEST_SETUP() ((void)0)
#endif

static inline void heap_test_finish(void)
{
    size_t left = hm_heap_destroy(h, NULL);
    h = NULL;
    cr_assert_eq(left, 0, "objects still alive at heap destroy: %zu", left);
}

/* The indirection expands HEAP_SUITE before Test() pastes it into names. */
#define HEAP_TEST_IN(suite, name)     \
    static void name##_body(void);    \
    Test(suite, name)                 \
    {                                 \
        HEAP_TEST_SETUP();            \
        h = hm_heap_new();            \
        name##_body();                \
        heap_test_finish();           \
    }                                 \
    static void name##_body(void)
#define HEAP_TEST(name) HEAP_TEST_IN(HEAP_SUITE, name)

#endif
