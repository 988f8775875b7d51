/* status.c: the one table of libhm status codes, their names and messages. */
#include "hm.h"

static const struct {
    int code;
    const char *name, *message;
} statuses[] = {
    {HM_OK, "HM_OK", "success"},
    {HM_ENOMEM, "HM_ENOMEM", "out of memory"},
    {HM_EINVAL, "HM_EINVAL", "invalid argument"},
    {HM_ETYPE, "HM_ETYPE", "object of the wrong type"},
    {HM_EINDEX, "HM_EINDEX", "index out of range"},
    {HM_EKEY, "HM_EKEY", "no such key"},
    {HM_EATTR, "HM_EATTR", "no such attribute"},
    {HM_EBUSY, "HM_EBUSY", "not allowed during a collection"},
    {HM_EIO, "HM_EIO", "input/output error"},
};

const char *hm_status_name(int status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].code == status)
            return statuses[i].name;
    return "HM_EUNKNOWN";
}

const char *hm_status_message(int status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].code == status)
            return statuses[i].message;
    return "unknown status";
}
