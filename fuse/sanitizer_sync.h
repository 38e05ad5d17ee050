// Orderings the kernel makes that ThreadSanitizer cannot see.
//
// The kernel sends a file's RELEASE only after it has taken the replies to
// every request on that file (in-flight reads hold a reference to it). A
// read reply sent with splice(2) is not an operation TSan treats as
// synchronising, so it would report the Release that frees the handle as
// racing with the Read that used it. These calls tell it what the kernel
// guarantees; outside a TSan build they are nothing.
#pragma once

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace casfs::fuse {

// Before a reply: everything this thread did with `object` happens before
// what a later request of the same file does with it.
inline void HandOverToKernel(void* object) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(object);
#else
  (void)object;
#endif
}

// In the request the kernel orders after those replies (RELEASE).
inline void TakeBackFromKernel(void* object) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(object);
#else
  (void)object;
#endif
}

}  // namespace casfs::fuse
