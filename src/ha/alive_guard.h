// Guard: wraps a callback given to the etcd client (or a timer) so that it runs only while
// the object that made it still exists; the object clears `alive` in its destructor.
#pragma once

#include <memory>
#include <utility>

namespace pgrt {

template <typename F>
auto Guard(const std::shared_ptr<bool>& alive, F f) {
  return [weak = std::weak_ptr<bool>(alive), f = std::move(f)](auto&&... args) mutable {
    if (weak.expired()) return;
    f(std::forward<decltype(args)>(args)...);
  };
}

}  // namespace pgrt
