// MapEntryHandle: a move-only handle to one entry of a map it does not own, which erases the
// entry when the handle goes (a cancellation callback, an expected child exit): whoever
// registered something forgets it by dropping the handle, on every path.
#pragma once

#include <utility>

namespace pgrt {

template <typename Map>
class MapEntryHandle {
 public:
  using Key = typename Map::key_type;

  MapEntryHandle() = default;
  MapEntryHandle(Map* map, Key key) : map_(map), key_(std::move(key)) {}
  MapEntryHandle(MapEntryHandle&& o) noexcept
      : map_(std::exchange(o.map_, nullptr)), key_(std::move(o.key_)) {}
  MapEntryHandle& operator=(MapEntryHandle&& o) noexcept {
    if (this != &o) {
      Reset();
      map_ = std::exchange(o.map_, nullptr);
      key_ = std::move(o.key_);
    }
    return *this;
  }
  MapEntryHandle(const MapEntryHandle&) = delete;
  MapEntryHandle& operator=(const MapEntryHandle&) = delete;
  ~MapEntryHandle() { Reset(); }

  void Reset() {
    if (map_ != nullptr) std::exchange(map_, nullptr)->erase(key_);
  }

 private:
  Map* map_ = nullptr;
  Key key_{};
};

}  // namespace pgrt
