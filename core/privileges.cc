#include "core/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ringdns::core {

absl::Status DropPrivileges(const std::string& user) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("-user ", user, ": no such user",
                     rc != 0 ? absl::StrCat(" (", std::strerror(rc), ")") : ""));
  }
  if (::geteuid() != 0) {
    if (::geteuid() == entry.pw_uid) return absl::OkStatus();
    return absl::PermissionDeniedError(
        absl::StrCat("-user ", user, ": only root can change to another user"));
  }
  if (::setgroups(0, nullptr) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("-user ", user, ": setgroups: ", std::strerror(errno)));
  }
  if (::setgid(entry.pw_gid) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("-user ", user, ": setgid(", entry.pw_gid, "): ", std::strerror(errno)));
  }
  if (::setuid(entry.pw_uid) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("-user ", user, ": setuid(", entry.pw_uid, "): ", std::strerror(errno)));
  }
  // Never back: a process that could regain root did not drop it.
  if (entry.pw_uid != 0 && ::setuid(0) == 0) {
    return absl::InternalError(
        absl::StrCat("-user ", user, ": root could be regained after setuid"));
  }
  return absl::OkStatus();
}

void ForbidNewPrivileges() { ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }

}  // namespace ringdns::core
