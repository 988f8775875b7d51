/* lifecycle.c: when objects are made and destroyed (the seed's Tracked example): rebinding a
 * name frees the old object at once, after the new one exists. The heap's lifecycle hook counts
 * every creation and destruction besides. */
#include "sample.h"

static const char *const tracked_slots[] = {"name", NULL};
static hm_type *Tracked;
static size_t created, destroyed;

static void tracked_del(hm_object *self)
{
    printf("[DEL] %s\n", hm_str_data(hm_instance_get(self, "name")));
}

static hm_object *tracked(hm_heap *h, const char *name)
{
    hm_object *t = hm_instance_new(h, Tracked), *s = hm_str_new(h, name);
    hm_instance_set(t, "name", s);
    hm_decref(s);
    printf("[INIT] %s\n", name);
    return t;
}

static void count_events(hm_object *o, hm_lifecycle_event event, void *user)
{
    (void)o;
    (void)user;
    if (event == HM_EVENT_CREATE)
        created++;
    else
        destroyed++;
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    Tracked = hm_class_new(
        &(hm_class_spec){.name = "Tracked", .slots = tracked_slots, .finalize = tracked_del});
    hm_heap *h = hm_heap_new();
    hm_heap_set_lifecycle(h, count_events, NULL);

    printf("obj = Tracked(\"obj1\")\n");
    hm_object *obj = tracked(h, "obj1");
    printf("obj = Tracked(\"obj2\")\n");
    hm_object *next = tracked(h, "obj2");
    snapshot(h, "lifecycle_both");
    hm_decref(obj); /* the old value of obj goes when the name is rebound */
    obj = next;
    printf("del obj\n");
    hm_decref(obj);
    printf("objects created %zu, destroyed %zu (two Tracked and their name strings)\n", created,
           destroyed);
    hm_heap_destroy(h, NULL);
    hm_class_free(Tracked);
    return 0;
}
