/* status.c: hm_status_name() and hm_status_message(), made from hm.h's HM_STATUS_MAP. */
#include "hm.h"

const char *hm_status_name(int status)
{
    switch (status) {
#define HM_STATUS_NAME_(name, value, message) case value: return #name;
        HM_STATUS_MAP(HM_STATUS_NAME_)
#undef HM_STATUS_NAME_
    }
    return "HM_EUNKNOWN";
}

const char *hm_status_message(int status)
{
    switch (status) {
#define HM_STATUS_MESSAGE_(name, value, message) case value: return message;
        HM_STATUS_MAP(HM_STATUS_MESSAGE_)
#undef HM_STATUS_MESSAGE_
    }
    return "unknown status";
}
