// Whether the current thread is running pgrt's event loop. Blocking calls (synchronous
// libpq, waiting on a future) assert that it is not, in debug builds: the loop must never
// wait. The one thread-local of pgrt, set only by EventLoop::Run.
#pragma once

#include <cassert>

namespace pgrt {

inline thread_local bool tls_inside_event_loop = false;

}  // namespace pgrt

#define PGRT_ASSERT_OFF_LOOP(what) \
  assert(!::pgrt::tls_inside_event_loop && what " blocks and must not run on the event loop")
