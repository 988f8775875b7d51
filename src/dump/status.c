/* status.c: hd_status_name() and hd_status_message(), made from heapdump.h's HD_STATUS_MAP. */
#include "heapdump.h"

const char *hd_status_name(int status)
{
    switch (status) {
#define HD_STATUS_NAME_(name, value, message) case value: return #name;
        HD_STATUS_MAP(HD_STATUS_NAME_)
#undef HD_STATUS_NAME_
    }
    return "HD_EUNKNOWN";
}

const char *hd_status_message(int status)
{
    switch (status) {
#define HD_STATUS_MESSAGE_(name, value, message) case value: return message;
        HD_STATUS_MAP(HD_STATUS_MESSAGE_)
#undef HD_STATUS_MESSAGE_
    }
    return "unknown status";
}
