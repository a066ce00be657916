// core/privileges.h: giving up root once every socket is bound (`-user`).
//
// ringdns starts as root (or with CAP_NET_BIND_SERVICE) to bind port 53, then becomes
// an unprivileged user: supplementary groups dropped, then the group, then the user.
// glibc applies each change to every thread of the process, and the kernel clears the
// capabilities of a thread whose user ID leaves 0, so no thread keeps any.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace ringdns::core {

// Becomes `user` (a name from the passwd database) for good; an error names what
// failed. Afterwards ringdns cannot bind ports below 1024 again (a reload adding one
// fails and keeps the running configuration).
absl::Status DropPrivileges(const std::string& user);

// Forbids gaining privileges through execve (setuid binaries, file capabilities) for
// this process and every thread it starts afterwards.
void ForbidNewPrivileges();

}  // namespace ringdns::core
