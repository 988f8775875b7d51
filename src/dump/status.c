/* status.c: the one table of libheapdump status codes, their names and messages. */
#include "heapdump.h"

static const struct {
    int status;
    const char *name, *message;
} status_table[] = {
    {HD_OK, "HD_OK", "success"},
    {HD_EIO, "HD_EIO", "cannot read the input"},
    {HD_ESYNTAX, "HD_ESYNTAX", "not well-formed JSON"},
    {HD_EFORMAT, "HD_EFORMAT", "not a valid heapdump"},
    {HD_EVERSION, "HD_EVERSION", "heapdump version not supported"},
    {HD_EINTEGRITY, "HD_EINTEGRITY", "inconsistent heapdump"},
    {HD_ELIMIT, "HD_ELIMIT", "beyond a limit of this reader"},
    {HD_ENOMEM, "HD_ENOMEM", "out of memory"},
    {HD_EINVAL, "HD_EINVAL", "invalid argument"},
};

const char *hd_status_name(int status)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].status == status)
            return status_table[i].name;
    return "HD_EUNKNOWN";
}

const char *hd_status_message(int status)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].status == status)
            return status_table[i].message;
    return "unknown status";
}
