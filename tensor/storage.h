#pragma once
// Storage: a block of device memory shared by a tensor and all its views. The version counter
// lives here so that every view of the same memory sees in-place writes (autograd checks it).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "tensor/device.h"

namespace fm {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p, size_t nbytes) = 0;
};

// The allocator for a device type. CPU memory is 64-byte aligned; CUDA memory comes from the
// CUDA backend (an error naming the device when this build has none).
Allocator& allocator_for(Device d);

// Returns the freed large CPU blocks that the CPU allocator keeps for reuse (see storage.cpp;
// FERMATA_CPU_CACHE_MB sets how much it may keep, 0 turns the cache off).
void release_cached_cpu_memory();

// Copies bytes between any two devices (host<->device, device<->device, host<->host).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

struct Storage {
  Storage(size_t nbytes, Device device);
  // Wraps memory owned elsewhere; `release` is called when the last view goes away.
  Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  std::atomic<uint64_t> version{0};

 private:
  std::function<void(void*)> release_;
};

}  // namespace fm
