/* finalize.c: weakref.finalize (the seed's "Finalization" example): a cleanup registered for an
 * object runs once when the object dies, unless it was detached first. The finalizer holds the
 * cleanup's argument, not the object: the snapshot shows a "finalize" object referring to the
 * name string only. */
#include "sample.h"

static const char *const resource_slots[] = {"name", "_finalizer", NULL};
static hm_type *Resource;

/* @staticmethod cleanup(name) */
static void cleanup(hm_object *name, void *user)
{
    (void)user;
    printf("Cleaning up %s\n", hm_str_data(name));
}

static hm_object *resource(hm_heap *h, const char *name)
{
    hm_object *r = hm_instance_new(h, Resource), *s = hm_str_new(h, name);
    hm_instance_set(r, "name", s);
    hm_object *f = hm_finalize_new(r, cleanup, s, NULL);
    hm_instance_set(r, "_finalizer", f);
    hm_decref(f);
    hm_decref(s);
    return r;
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    Resource = hm_class_new(&(hm_class_spec){.name = "Resource", .slots = resource_slots});
    hm_heap *h = hm_heap_new();

    printf("obj = Resource(\"resource\")\n");
    hm_object *obj = resource(h, "resource");
    printf("finalizer alive: %s\n",
           hm_finalize_alive(hm_instance_get(obj, "_finalizer")) ? "True" : "False");
    snapshot(h, "finalize_registered");
    printf("del obj\n");
    hm_decref(obj);

    printf("obj = Resource(\"kept\"); obj.detach()\n");
    obj = resource(h, "kept");
    hm_finalize_detach(hm_instance_get(obj, "_finalizer"), NULL, NULL, NULL, NULL);
    printf("del obj\n");
    hm_decref(obj);
    printf("(no cleanup: it was detached)\n");

    hm_heap_destroy(h, NULL);
    hm_class_free(Resource);
    return 0;
}
