/* leaky_cache.c: a small service whose response cache is never evicted, so it grows with every
 * request; a bounded recent-requests list does not. Snapshots after 100, 200 and 300 requests
 * are what `heaptool diff` (and its --final leak rule) are for; allocation sites are traced, so
 * `diff --by site` names the line that keeps allocating. */
#include "sample.h"

static const char *const response_slots[] = {"status", "body", NULL};
static hm_type *Response;

#define RECENT_MAX 10

/* handle(request): the response is cached forever under the request's path. */
static void handle(hm_heap *h, hm_object *cache, hm_object *recent, int request)
{
    char path[32], body[48];
    snprintf(path, sizeof path, "/item/%d", request);
    snprintf(body, sizeof body, "<html>item %d</html>", request);
    hm_object *r = hm_instance_new(h, Response);
    hm_object *status = hm_int_new(h, 200), *text = hm_str_new(h, body);
    hm_instance_set(r, "status", status);
    hm_instance_set(r, "body", text);
    hm_dict_set_str(cache, path, r); /* the leak: nothing ever removes an entry */
    hm_object *p = hm_str_new(h, path);
    hm_list_append(recent, p);
    if (hm_list_len(recent) > RECENT_MAX)
        hm_decref(hm_list_pop(recent, 0));
    hm_decref(p);
    hm_decref(text);
    hm_decref(status);
    hm_decref(r);
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    Response = hm_class_new(&(hm_class_spec){.name = "Response", .slots = response_slots});
    hm_heap *h = hm_heap_new();
    hm_trace_start(h);
    hm_object *cache = hm_dict_new(h), *recent = hm_list_new(h);
    hm_root_set(h, "cache", cache); /* the service's globals: the roots hold them */
    hm_root_set(h, "recent", recent);
    hm_decref(cache);
    hm_decref(recent);

    int request = 0;
    for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < 100; i++)
            handle(h, cache, recent, ++request);
        size_t current, peak;
        hm_trace_get_traced_memory(h, &current, &peak);
        printf("after %d requests: %zu cached responses, %zu recent, traced memory %zu bytes\n",
               request, hm_dict_len(cache), hm_list_len(recent), current);
        char name[32];
        snprintf(name, sizeof name, "service_%d", round);
        snapshot(h, name);
    }

    hm_heap_destroy(h, NULL);
    hm_class_free(Response);
    return 0;
}
