#include "util/status.h"

#include <cerrno>
#include <cstring>

namespace pgrt {

Status ErrnoStatus(std::string_view context, int err) {
  return Status::Error(std::string(context) + ": " + std::strerror(err));
}

Status ErrnoStatus(std::string_view context) { return ErrnoStatus(context, errno); }

}  // namespace pgrt
