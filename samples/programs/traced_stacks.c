/* traced_stacks.c: tracing with call stacks (hm_trace_start_depth). A config loader makes its
 * entries in one function reached from two callers; the snapshot's sites carry the stacks, so
 * `heaptool flame` shows which caller's entries hold the memory, where `stats --by site` sees
 * one line. */
#include "sample.h"

/* Calls that stay calls when optimized: a stack shows each of them. */
#define CALL __attribute__((noinline))
static volatile int entries_made;

static CALL hm_object *make_entry(hm_heap *h, const char *text)
{
    hm_object *entry = hm_str_new(h, text);
    entries_made++;
    return entry;
}

static CALL void parse_section(hm_heap *h, hm_object *into, const char *name, int n)
{
    for (int i = 0; i < n; i++) {
        char text[64];
        snprintf(text, sizeof text, "%s.key%d = value %d", name, i, i);
        hm_object *entry = make_entry(h, text);
        hm_list_append(into, entry);
        hm_decref(entry);
    }
    entries_made++;
}

static CALL void load_config(hm_heap *h, hm_object *into)
{
    parse_section(h, into, "server", 40);
    parse_section(h, into, "client", 10);
    entries_made++;
}

static CALL void load_defaults(hm_heap *h, hm_object *into)
{
    hm_object *entry = make_entry(h, "defaults.timeout = 30");
    hm_list_append(into, entry);
    hm_decref(entry);
    entries_made++;
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    hm_heap *h = hm_heap_new();
    hm_trace_start_depth(h, 8); /* tracemalloc.start(8) */
    hm_object *config = hm_list_new(h);
    hm_root_set(h, "config", config);
    hm_decref(config);
    load_config(h, config);
    load_defaults(h, config);
    printf("%zu entries, traced with stacks of at most %u frames\n", hm_list_len(config), hm_trace_depth(h));
    snapshot(h, "stacks");
    hm_heap_destroy(h, NULL);
    return 0;
}
