// Handing resident memory back to the kernel while pgrt has nothing to do (a node asleep).
// Most of an idle pgrt's resident set is code: the pages of its own binary and of the
// shared libraries it ran while postgres was up (TLS, libpq, the HTTP server...). They come
// back from the page cache on their next use, at the cost of a minor fault each.
#pragma once

#include <cstddef>

#include "util/status.h"

namespace pgrt {

// Unmaps (MADV_DONTNEED) the resident pages of this process's read-only file mappings that
// are still the file's own pages: code, and read-only data not written by the loader. A
// later access reads them from the page cache again; nothing is lost, as private copies
// (relocated data, anything writable) are left alone. Also returns freed heap memory to the
// kernel (malloc_trim). Returns how many bytes were advised.
Result<size_t> ReleaseIdleMemory();

}  // namespace pgrt
